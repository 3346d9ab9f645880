#include "core/csv.hpp"

namespace alphalab {

Result<std::vector<CsvRecord>> ParseCsvRecords(std::string_view text) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.remove_prefix(3);
  }
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  size_t line = 1;
  record.line = 1;
  bool in_quotes = false;
  bool field_quoted = false;  // the current field opened with a quote
  bool line_has_content = false;
  auto end_record = [&] {
    if (line_has_content) {
      record.fields.push_back(std::move(field));
      records.push_back(std::move(record));
    }
    record = CsvRecord{};
    field.clear();
    field_quoted = false;
    line_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
      record.line = line;
      continue;
    }
    line_has_content = true;
    if (c == '"' && field.empty() && !field_quoted) {
      in_quotes = true;
      field_quoted = true;
    } else if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      field_quoted = false;
    } else {
      field += c;
    }
  }
  if (in_quotes) {
    return Status::InvalidArgument("line " + std::to_string(record.line) + " has an unterminated quote");
  }
  end_record();
  return records;
}

}  // namespace alphalab
