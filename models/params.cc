#include "models/params.h"

#include <cmath>
#include <sstream>

namespace streamrec::models {

const double* ParamReader::Take(const std::string& name) {
  auto it = params_.find(name);
  if (it == params_.end()) return nullptr;
  used_.insert(name);
  return &it->second;
}

void ParamReader::Read(const std::string& name, float* field, double min, double max) {
  const double* v = Take(name);
  if (v == nullptr) return Record(name, *field);
  if (!std::isfinite(*v) || *v < min || *v > max) {
    std::ostringstream os;
    os << "'" << name << "' = " << *v << " is outside [" << min << ", " << max << "]; ";
    errors_ += os.str();
    return;
  }
  *field = static_cast<float>(*v);
  Record(name, *field);
}

void ParamReader::Read(const std::string& name, uint32_t* field, uint32_t min, uint32_t max) {
  const double* v = Take(name);
  if (v == nullptr) return Record(name, *field);
  if (!std::isfinite(*v) || *v < min || *v > max || std::floor(*v) != *v) {
    std::ostringstream os;
    os << "'" << name << "' = " << *v << " must be a whole number in [" << min << ", " << max
       << "]; ";
    errors_ += os.str();
    return;
  }
  *field = static_cast<uint32_t>(*v);
  Record(name, *field);
}

void ParamReader::Read(const std::string& name, bool* field) {
  const double* v = Take(name);
  if (v == nullptr) return Record(name, *field ? 1.0 : 0.0);
  if (*v != 0.0 && *v != 1.0) {
    errors_ += "'" + name + "' must be 0 or 1; ";
    return;
  }
  *field = *v != 0.0;
  Record(name, *field ? 1.0 : 0.0);
}

Status ParamReader::Finish(const std::string& model) const {
  std::string msg = errors_;
  for (const auto& [name, value] : params_) {
    if (!used_.count(name)) msg += "unknown parameter '" + name + "'; ";
  }
  if (msg.empty()) return Status::Ok();
  msg.resize(msg.size() - 2);
  return Status::InvalidArgument("model " + model + ": " + msg);
}

}  // namespace streamrec::models
