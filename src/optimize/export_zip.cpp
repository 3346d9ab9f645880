#include "optimize/export_zip.hpp"

#include <cstdio>
#include <ctime>
#include <memory>
#include <set>

#include <zip.h>

namespace alphalab::optimize {

namespace {

Status CheckName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("export entry name is empty");
  if (name.front() == '/' || name.find('\\') != std::string::npos) {
    return Status::InvalidArgument("export entry name '" + name + "' must be a relative path with '/'");
  }
  size_t pos = 0;
  while (true) {
    const auto slash = name.find('/', pos);
    const std::string seg = name.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (seg.empty() || seg == "." || seg == "..") {
      return Status::InvalidArgument("export entry name '" + name + "' has an empty, '.' or '..' segment");
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return Status::Ok();
}

std::string ZipErrorText(zip_error_t* error) {
  const char* s = zip_error_strerror(error);
  return s ? s : "unknown libzip error";
}

struct SourceCloser {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

// The bytes of a source that libzip has finished writing.
Result<std::string> ReadSource(zip_source_t* src) {
  if (zip_source_open(src) < 0) {
    return Status::Internal("export zip: cannot reopen the archive buffer: " + ZipErrorText(zip_source_error(src)));
  }
  std::string out;
  char buf[64 * 1024];
  while (true) {
    const zip_int64_t n = zip_source_read(src, buf, sizeof buf);
    if (n < 0) {
      zip_source_close(src);
      return Status::Internal("export zip: cannot read the archive buffer: " + ZipErrorText(zip_source_error(src)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  zip_source_close(src);
  return out;
}

}  // namespace

std::vector<ZipEntry> ExportEntries(const ExportInput& input) {
  return {ZipEntry{"manifest.jsonl", BuildManifestJsonl(input.tasks)},
          ZipEntry{"top_n.json", DumpJson(BuildTopNJson(input), 2) + "\n"},
          ZipEntry{"report.md", BuildReportMarkdown(input)}};
}

Result<std::string> BuildZip(const std::vector<ZipEntry>& entries) {
  if (entries.empty()) return Status::InvalidArgument("an export archive needs at least one entry");
  std::set<std::string> names;
  for (const auto& e : entries) {
    RETURN_IF_ERROR(CheckName(e.name));
    if (!names.insert(e.name).second) return Status::InvalidArgument("export entry '" + e.name + "' appears twice");
  }
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, SourceCloser> src(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!src) {
    const std::string msg = ZipErrorText(&error);
    zip_error_fini(&error);
    return Status::Internal("export zip: " + msg);
  }
  zip_source_keep(src.get());  // survives zip_close, which writes the archive into it
  zip_t* archive = zip_open_from_source(src.get(), ZIP_TRUNCATE, &error);
  if (!archive) {
    const std::string msg = ZipErrorText(&error);
    zip_error_fini(&error);
    zip_source_free(src.get());  // drop the reference zip_open_from_source did not take
    return Status::Internal("export zip: " + msg);
  }
  zip_error_fini(&error);
  std::tm epoch{};
  epoch.tm_year = 80;  // 1980-01-01 00:00, the first DOS date
  epoch.tm_mday = 1;
  const time_t fixed_time = timegm(&epoch);
  for (const auto& e : entries) {
    zip_source_t* data = zip_source_buffer(archive, e.data.data(), e.data.size(), 0);
    if (!data) {
      zip_discard(archive);
      return Status::Internal("export zip: cannot add " + e.name);
    }
    const zip_int64_t index = zip_file_add(archive, e.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      const std::string msg = zip_strerror(archive);
      zip_discard(archive);
      return Status::Internal("export zip: cannot add " + e.name + ": " + msg);
    }
    if (zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), fixed_time, 0) < 0 ||
        zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 0) < 0) {
      const std::string msg = zip_strerror(archive);
      zip_discard(archive);
      return Status::Internal("export zip: " + e.name + ": " + msg);
    }
  }
  if (zip_close(archive) < 0) {
    const std::string msg = zip_strerror(archive);
    zip_discard(archive);
    return Status::Internal("export zip: cannot write the archive: " + msg);
  }
  return ReadSource(src.get());
}

Result<std::vector<ZipEntry>> ReadZip(const std::string& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!src) {
    const std::string msg = ZipErrorText(&error);
    zip_error_fini(&error);
    return Status::Internal("zip: " + msg);
  }
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!archive) {
    const std::string msg = ZipErrorText(&error);
    zip_error_fini(&error);
    zip_source_free(src);
    return Status::InvalidArgument("not a valid zip archive: " + msg);
  }
  zip_error_fini(&error);
  std::vector<ZipEntry> out;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) < 0) {
      zip_discard(archive);
      return Status::InvalidArgument("zip entry " + std::to_string(i) + " is unreadable");
    }
    zip_file_t* f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
    if (!f) {
      zip_discard(archive);
      return Status::InvalidArgument(std::string("cannot open zip entry ") + st.name);
    }
    ZipEntry e;
    e.name = st.name;
    e.data.resize(static_cast<size_t>(st.size));
    const zip_int64_t n = e.data.empty() ? 0 : zip_fread(f, e.data.data(), e.data.size());
    zip_fclose(f);
    if (n < 0 || static_cast<zip_uint64_t>(n) != st.size) {
      zip_discard(archive);
      return Status::InvalidArgument(std::string("zip entry ") + st.name + " is truncated");
    }
    out.push_back(std::move(e));
  }
  zip_discard(archive);
  return out;
}

}  // namespace alphalab::optimize
