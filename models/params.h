// ParamMap: model hyper-parameters by name ("dim", "lr", ...), as given by flags or a config
// file. A model's Options struct holds the tuned defaults; ParamReader overrides the fields named
// in the map and reports names that no field took, so a typo is an error, not a silent default.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "common/status.h"

namespace streamrec::models {

using ParamMap = std::map<std::string, double>;

class ParamReader {
 public:
  // When `effective` is given, every Read records the field's final value there, so callers
  // can report the hyper-parameters actually used.
  explicit ParamReader(const ParamMap& params, ParamMap* effective = nullptr)
      : params_(params), effective_(effective) {}

  // Each overrides *field when `name` is present; out-of-range values are reported by Finish.
  void Read(const std::string& name, float* field, double min, double max);
  void Read(const std::string& name, uint32_t* field, uint32_t min, uint32_t max);
  void Read(const std::string& name, bool* field);
  // InvalidArgument naming every unknown or out-of-range parameter of `model`; else Ok.
  Status Finish(const std::string& model) const;

 private:
  const double* Take(const std::string& name);
  void Record(const std::string& name, double value) {
    if (effective_ != nullptr) (*effective_)[name] = value;
  }
  const ParamMap& params_;
  ParamMap* effective_;
  std::set<std::string> used_;
  std::string errors_;
};

}  // namespace streamrec::models
