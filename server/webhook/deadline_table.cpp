#include "server/webhook/deadline_table.h"

namespace rootgate::server {

bool DeadlineTable::Add(const void* key, int fd, TimePoint deadline) {
  return entries_.try_emplace(key, Entry{fd, deadline}).second;
}

void DeadlineTable::Set(const void* key, TimePoint deadline) {
  if (auto it = entries_.find(key); it != entries_.end()) it->second.deadline = deadline;
}

void DeadlineTable::Pause(const void* key) { Set(key, TimePoint::max()); }

void DeadlineTable::Remove(const void* key) { entries_.erase(key); }

std::vector<int> DeadlineTable::TakeExpired(TimePoint now) {
  std::vector<int> fds;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.deadline <= now) {
      fds.push_back(it->second.fd);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return fds;
}

std::optional<DeadlineTable::TimePoint> DeadlineTable::Earliest() const {
  std::optional<TimePoint> earliest;
  for (const auto& [key, e] : entries_) {
    if (e.deadline != TimePoint::max() && (!earliest || e.deadline < *earliest)) earliest = e.deadline;
  }
  return earliest;
}

}  // namespace rootgate::server
