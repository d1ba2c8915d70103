#pragma once
// `hubble observe -o table --follow`: the table of FlowPrinter, but each row
// printed as its flow arrives. A followed stream has no end to measure
// columns at, so widths start at the header and the first flow's row and
// only grow (columns padded by 3 spaces, as upstream's tabwriter); a wider
// cell widens its column from that row on.
#include <ostream>
#include <string>
#include <vector>

#include "observer/observer.pb.h"

namespace cpp::hubble_cli {

class TableStream {
 public:
  TableStream(std::ostream& out, bool node_name) : out_(out), node_name_(node_name) {}
  void write(const observer::GetFlowsResponse& r);

 private:
  std::vector<std::string> cells(const flow::Flow& f) const;
  void print(const std::vector<std::string>& row);

  std::ostream& out_;
  bool node_name_;
  std::vector<size_t> width_;
};

}  // namespace cpp::hubble_cli
