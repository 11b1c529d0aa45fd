// Datasets for offline evaluation and replay: MovieLens (u.data, uN.base/test), SASRec-style
// sequence files ("user item" per line, time-ordered within a user), Yoochoose click TSV
// ("SessionId ItemId Time"), and streamrec's own JSONL events. All load into dense indices.
#pragma once

#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "common/types.h"

namespace streamrec::tools {

enum class DataFormat { kAuto, kMovieLens, kSequences, kYoochoose, kJsonl };

// "movielens", "sequences", "yoochoose", "jsonl", "auto".
Status ParseDataFormat(const std::string& name, DataFormat* out);
const char* DataFormatName(DataFormat f);

struct Dataset {
  IdMap users;  // for Yoochoose: sessions
  IdMap items;
  std::vector<Interaction> events;
};

// Resolves a --data argument: an existing path as is; otherwise the same name under
// $STREAMREC_DATA, then under ../shared/data. NotFound names every place it looked.
Result<std::string> ResolveDataPath(const std::string& arg);

// Guesses the format from a path: a directory holding u.data, *.jsonl, a TSV whose header
// starts with SessionId, else "user item" sequences.
DataFormat DetectFormat(const std::string& path);

// Each appends the file's rows to `ds->events` (interning ids in ds's maps), in file order.
// MovieLens rows become ratings; sequence rows become implicit events whose ts is the row's
// position within its user; Yoochoose rows become clicks with the session as the user.
// Malformed lines are an InvalidArgument naming the file and line.
Status LoadMovieLens(const std::string& file, Dataset* ds);
Status LoadSequences(const std::string& file, Dataset* ds);
Status LoadYoochoose(const std::string& file, Dataset* ds);
// streamrec's wire format, one event per line: ratings and implicit events become
// interactions (implicit ones weighted by `weights`); impression, item and forget_user lines
// are skipped. A line that fails validation is an error naming the line and the reason.
Status LoadJsonl(const std::string& file, const ImplicitWeights& weights, Dataset* ds);

// Loads `path` in `format` (kAuto detects; a MovieLens directory loads u.data).
Status LoadDataset(const std::string& path, DataFormat format, Dataset* ds);

}  // namespace streamrec::tools
