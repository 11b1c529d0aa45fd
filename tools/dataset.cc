#include "tools/dataset.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "stream/event_codec.h"

namespace fs = std::filesystem;

namespace streamrec::tools {
namespace {

// Reads a whole file; IOError naming it when it cannot.
Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = std::move(ss).str();
  return Status::Ok();
}

// Splits `line` on any of `seps` (runs of separators count once) into at most `max` fields.
size_t SplitFields(std::string_view line, std::string_view seps, std::string_view* fields,
                   size_t max) {
  size_t n = 0;
  size_t pos = 0;
  while (n < max) {
    pos = line.find_first_not_of(seps, pos);
    if (pos == std::string_view::npos) break;
    size_t end = line.find_first_of(seps, pos);
    if (end == std::string_view::npos) end = line.size();
    fields[n++] = line.substr(pos, end - pos);
    pos = end;
  }
  return n;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status LineError(const std::string& file, size_t line_no, const std::string& what) {
  return Status::InvalidArgument(file + ":" + std::to_string(line_no) + ": " + what);
}

// Calls fn(line, line_no) for each non-empty line; stops at the first error.
template <typename Fn>
Status ForEachLine(const std::string& file, Fn fn) {
  std::string text;
  STREAMREC_RETURN_IF_ERROR(ReadFile(file, &text));
  std::string_view rest(text);
  size_t line_no = 0;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    STREAMREC_RETURN_IF_ERROR(fn(line, line_no));
  }
  return Status::Ok();
}

}  // namespace

Status ParseDataFormat(const std::string& name, DataFormat* out) {
  static const std::pair<const char*, DataFormat> kNames[] = {{"auto", DataFormat::kAuto},
                                                              {"movielens", DataFormat::kMovieLens},
                                                              {"sequences", DataFormat::kSequences},
                                                              {"yoochoose", DataFormat::kYoochoose},
                                                              {"jsonl", DataFormat::kJsonl}};
  for (const auto& [n, f] : kNames) {
    if (name == n) {
      *out = f;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown format '" + name +
                                 "' (known: auto, movielens, sequences, yoochoose, jsonl)");
}

const char* DataFormatName(DataFormat f) {
  switch (f) {
    case DataFormat::kAuto:
      return "auto";
    case DataFormat::kMovieLens:
      return "movielens";
    case DataFormat::kSequences:
      return "sequences";
    case DataFormat::kYoochoose:
      return "yoochoose";
    case DataFormat::kJsonl:
      return "jsonl";
  }
  return "?";
}

Result<std::string> ResolveDataPath(const std::string& arg) {
  std::vector<fs::path> tried = {arg};
  if (const char* env = std::getenv("STREAMREC_DATA"); env && *env) {
    tried.push_back(fs::path(env) / arg);
  }
  tried.push_back(fs::path("..") / "shared" / "data" / arg);
  // Beside the checkout as seen from the binary (build/streamrec -> ../../shared/data).
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) tried.push_back(exe.parent_path() / ".." / ".." / "shared" / "data" / arg);
  for (const auto& p : tried) {
    if (!fs::exists(p, ec)) continue;
    // A pipe (/dev/stdin) has no canonical path: use it as given.
    const fs::path canonical = fs::weakly_canonical(p, ec);
    return ec ? p.string() : canonical.string();
  }
  std::string msg = "data '" + arg + "' not found; looked at";
  for (const auto& p : tried) {
    msg += ' ';
    msg += p.string();
  }
  return Status::NotFound(msg + " (set STREAMREC_DATA to the benchmark data folder)");
}

DataFormat DetectFormat(const std::string& path) {
  if (fs::is_directory(path)) {
    return fs::exists(fs::path(path) / "u.data") ? DataFormat::kMovieLens : DataFormat::kYoochoose;
  }
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") return DataFormat::kJsonl;
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  if (first.rfind("SessionId", 0) == 0) return DataFormat::kYoochoose;
  std::string_view f[4];
  const size_t n = SplitFields(first, " \t", f, 4);
  return n >= 3 ? DataFormat::kMovieLens : DataFormat::kSequences;
}

Status LoadMovieLens(const std::string& file, Dataset* ds) {
  return ForEachLine(file, [&](std::string_view line, size_t line_no) -> Status {
    std::string_view f[4];
    if (SplitFields(line, "\t :", f, 4) < 3)
      return LineError(file, line_no, "expected user item rating [ts]");
    Interaction x;
    double rating;
    int64_t ts = 0;
    if (!ParseNumber(f[2], &rating) || (!f[3].empty() && !ParseNumber(f[3], &ts))) {
      return LineError(file, line_no, "bad rating or timestamp");
    }
    x.user = ds->users.Intern(f[0]);
    x.item = ds->items.Intern(f[1]);
    x.value = static_cast<float>(rating);
    x.ts_seconds = ts;
    x.is_rating = true;
    ds->events.push_back(x);
    return Status::Ok();
  });
}

Status LoadSequences(const std::string& file, Dataset* ds) {
  std::vector<int64_t> position;  // next position per user
  return ForEachLine(file, [&](std::string_view line, size_t line_no) -> Status {
    std::string_view f[2];
    if (SplitFields(line, " \t", f, 2) < 2) return LineError(file, line_no, "expected user item");
    Interaction x;
    x.user = ds->users.Intern(f[0]);
    x.item = ds->items.Intern(f[1]);
    if (x.user >= position.size()) position.resize(x.user + 1, 0);
    x.ts_seconds = position[x.user]++;
    ds->events.push_back(x);
    return Status::Ok();
  });
}

Status LoadYoochoose(const std::string& file, Dataset* ds) {
  return ForEachLine(file, [&](std::string_view line, size_t line_no) -> Status {
    if (line.rfind("SessionId", 0) == 0) return Status::Ok();  // header
    std::string_view f[3];
    if (SplitFields(line, "\t", f, 3) < 3)
      return LineError(file, line_no, "expected SessionId ItemId Time");
    double ts;
    if (!ParseNumber(f[2], &ts)) return LineError(file, line_no, "bad time");
    Interaction x;
    x.user = ds->users.Intern(f[0]);
    x.item = ds->items.Intern(f[1]);
    x.ts_seconds = static_cast<int64_t>(ts);
    ds->events.push_back(x);
    return Status::Ok();
  });
}

Status LoadJsonl(const std::string& file, const ImplicitWeights& weights, Dataset* ds) {
  stream::EventDecoder decoder;
  stream::EventView e;
  return ForEachLine(file, [&](std::string_view line, size_t line_no) -> Status {
    if (Status st = decoder.Decode(line, &e); !st.ok()) {
      return LineError(file, line_no, st.message());
    }
    if (e.type != EventType::kRating && !IsImplicit(e.type)) return Status::Ok();
    Interaction x;
    x.user = ds->users.Intern(e.user);
    x.item = ds->items.Intern(e.item);
    x.is_rating = e.type == EventType::kRating;
    x.value = x.is_rating ? e.value : 0.0f;
    x.weight = weights.Of(e.type);
    x.ts_seconds = static_cast<int64_t>(e.ts_seconds);
    ds->events.push_back(x);
    return Status::Ok();
  });
}

Status LoadDataset(const std::string& path, DataFormat format, Dataset* ds) {
  if (format == DataFormat::kAuto) format = DetectFormat(path);
  switch (format) {
    case DataFormat::kMovieLens:
      return LoadMovieLens(fs::is_directory(path) ? (fs::path(path) / "u.data").string() : path,
                           ds);
    case DataFormat::kSequences:
      return LoadSequences(path, ds);
    case DataFormat::kYoochoose:
      return LoadYoochoose(path, ds);
    case DataFormat::kJsonl:
      return LoadJsonl(path, ImplicitWeights(), ds);
    case DataFormat::kAuto:
      break;
  }
  return Status::InvalidArgument("cannot detect the format of " + path);
}

}  // namespace streamrec::tools
