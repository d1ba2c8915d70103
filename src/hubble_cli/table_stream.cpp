#include "hubble_cli/table_stream.h"

#include <algorithm>

#include "hubble_cli/flow_printer.h"

namespace cpp::hubble_cli {

namespace {

// "Nov 26 22:01:02.123": every timestamp is this wide, so its column is
// known before the first flow.
constexpr size_t kTimestampWidth = 19;

}  // namespace

std::vector<std::string> TableStream::cells(const flow::Flow& f) const {
  auto [src, dst] = flow_endpoints(f);
  std::vector<std::string> row{format_timestamp(f.time(), f.has_time())};
  if (node_name_) row.push_back(f.node_name());
  for (auto& c : {src, dst, flow_type(f), flow_verdict(f), flow_summary(f)}) row.push_back(c);
  return row;
}

void TableStream::write(const observer::GetFlowsResponse& r) {
  if (width_.empty()) {
    std::vector<std::string> header{"TIMESTAMP"};
    if (node_name_) header.push_back("NODE");
    for (const char* h : {"SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"}) header.push_back(h);
    for (const auto& h : header) width_.push_back(h.size());
    width_[0] = kTimestampWidth;
    // The first flow widens the columns before the header goes out, so
    // they line up.
    if (r.has_flow()) {
      auto first = cells(r.flow());
      for (size_t i = 0; i < first.size(); ++i) width_[i] = std::max(width_[i], first[i].size());
    }
    print(header);
  }
  if (r.has_flow()) {
    print(cells(r.flow()));
  } else if (r.has_lost_events()) {
    // Lost events are never silent; the line spans the row, as in FlowPrinter.
    const auto& l = r.lost_events();
    out_ << format_timestamp(r.time(), r.has_time()) << ": EVENTS LOST: " << flow::LostEventSource_Name(l.source())
         << (l.has_cpu() ? " CPU(" + std::to_string(l.cpu().value()) + ")" : "") << " " << l.num_events_lost()
         << "\n"
         << std::flush;
  }
}

void TableStream::print(const std::vector<std::string>& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    width_[i] = std::max(width_[i], row[i].size());
    out_ << row[i];
    if (i + 1 < row.size()) out_ << std::string(width_[i] - row[i].size() + 3, ' ');
  }
  out_ << "\n" << std::flush;
}

}  // namespace cpp::hubble_cli
