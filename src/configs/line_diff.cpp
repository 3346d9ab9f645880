#include "configs/line_diff.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace alphalab::configs {

namespace {

std::vector<std::string_view> SplitLines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, end - start + 1));  // newline kept: "no newline at end" differs
    start = end + 1;
  }
  return out;
}

enum class Op : uint8_t { kEqual, kDelete, kInsert };

// Myers' greedy forward algorithm with the V arrays kept for the backtrack. a, b: line ids.
// Returns false when more than max_d edits are needed.
bool Myers(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, int max_d, std::vector<Op>& ops) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  const int max = n + m;
  const int limit = std::min(max, max_d);
  std::vector<std::vector<int>> trace;
  std::vector<int> v(2 * static_cast<size_t>(limit) + 3, 0);
  const int off = limit + 1;
  int found_d = -1;
  for (int d = 0; d <= limit; ++d) {
    // Only diagonals -d..d of the previous round are read when backtracking round d.
    trace.emplace_back(v.begin() + (off - d), v.begin() + (off + d + 1));
    for (int k = -d; k <= d; k += 2) {
      int x;
      if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) {
        x = v[off + k + 1];
      } else {
        x = v[off + k - 1] + 1;
      }
      int y = x - k;
      while (x < n && y < m && a[x] == b[y]) {
        ++x;
        ++y;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found_d = d;
        break;
      }
    }
    if (found_d >= 0) break;
  }
  if (found_d < 0) return false;
  // Backtrack from (n, m).
  std::vector<Op> rev;
  int x = n, y = m;
  for (int d = found_d; d > 0; --d) {
    const std::vector<int>& pv = trace[static_cast<size_t>(d)];
    auto at = [&](int kk) { return pv[static_cast<size_t>(kk + d)]; };
    const int k = x - y;
    int prev_k;
    if (k == -d || (k != d && at(k - 1) < at(k + 1))) {
      prev_k = k + 1;
    } else {
      prev_k = k - 1;
    }
    const int prev_x = at(prev_k);
    const int prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      rev.push_back(Op::kEqual);
      --x;
      --y;
    }
    rev.push_back(x == prev_x ? Op::kInsert : Op::kDelete);
    x = prev_x;
    y = prev_y;
  }
  while (x > 0 && y > 0) {
    rev.push_back(Op::kEqual);
    --x;
    --y;
  }
  ops.assign(rev.rbegin(), rev.rend());
  return true;
}

void AppendLine(std::string& out, char sign, std::string_view line) {
  out += sign;
  out.append(line);
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::string UnifiedDiff(std::string_view from, std::string_view to, std::string_view from_label,
                        std::string_view to_label, int context, UnifiedDiffStats* stats, int max_edits) {
  if (from == to) return "";
  const std::vector<std::string_view> a = SplitLines(from), b = SplitLines(to);
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  // Line ids: equal lines share an id (hash, then confirmed by the text when hashes collide).
  std::hash<std::string_view> h;
  std::vector<uint64_t> ia, ib;
  for (size_t i = head; i < a.size() - tail; ++i) ia.push_back(h(a[i]));
  for (size_t i = head; i < b.size() - tail; ++i) ib.push_back(h(b[i]));
  std::vector<Op> mid;
  if (!Myers(ia, ib, max_edits, mid)) {
    mid.assign(ia.size(), Op::kDelete);
    mid.insert(mid.end(), ib.size(), Op::kInsert);
  }
  // A hash collision would pair two different lines as equal: split such a pair.
  std::vector<Op> ops(head, Op::kEqual);
  {
    size_t x = head, y = head;
    for (Op op : mid) {
      if (op == Op::kEqual && a[x] != b[y]) {
        ops.push_back(Op::kDelete);
        ops.push_back(Op::kInsert);
      } else {
        ops.push_back(op);
      }
      if (op != Op::kInsert) ++x;
      if (op != Op::kDelete) ++y;
    }
  }
  ops.insert(ops.end(), tail, Op::kEqual);

  // Hunks: runs of changes with `context` equal lines around, merged when close.
  std::string out;
  out += "--- ";
  out.append(from_label);
  out += "\n+++ ";
  out.append(to_label);
  out += "\n";
  const size_t total = ops.size();
  // Positions (in a and b) at each op index.
  std::vector<size_t> ax(total + 1), by(total + 1);
  for (size_t i = 0, x = 0, y = 0; i <= total; ++i) {
    ax[i] = x;
    by[i] = y;
    if (i == total) break;
    if (ops[i] != Op::kInsert) ++x;
    if (ops[i] != Op::kDelete) ++y;
  }
  size_t i = 0;
  const size_t ctx = static_cast<size_t>(std::max(0, context));
  while (i < total) {
    if (ops[i] == Op::kEqual) {
      ++i;
      continue;
    }
    size_t start = i >= ctx ? i - ctx : 0;
    size_t end = i;  // exclusive end of the hunk's last change
    size_t j = i;
    while (j < total) {
      if (ops[j] != Op::kEqual) {
        end = j + 1;
        ++j;
        continue;
      }
      size_t run = j;
      while (run < total && ops[run] == Op::kEqual) ++run;
      if (run < total && run - j <= 2 * ctx) {
        j = run;
        continue;
      }
      break;
    }
    const size_t stop = std::min(total, end + ctx);
    int a_count = 0, b_count = 0;
    for (size_t k = start; k < stop; ++k) {
      if (ops[k] != Op::kInsert) ++a_count;
      if (ops[k] != Op::kDelete) ++b_count;
    }
    out += "@@ -" + std::to_string(a_count == 0 ? ax[start] : ax[start] + 1) + "," + std::to_string(a_count) + " +" +
           std::to_string(b_count == 0 ? by[start] : by[start] + 1) + "," + std::to_string(b_count) + " @@\n";
    for (size_t k = start; k < stop; ++k) {
      switch (ops[k]) {
        case Op::kEqual: AppendLine(out, ' ', a[ax[k]]); break;
        case Op::kDelete:
          AppendLine(out, '-', a[ax[k]]);
          if (stats) ++stats->removed;
          break;
        case Op::kInsert:
          AppendLine(out, '+', b[by[k]]);
          if (stats) ++stats->added;
          break;
      }
    }
    i = stop;
  }
  return out;
}

}  // namespace alphalab::configs
