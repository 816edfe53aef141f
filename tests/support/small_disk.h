// A full disk for tests: a 64 KiB tmpfs mounted on a scratch directory (or a read-only one).
// Mounting needs root (CI runs the suite as root); elsewhere `mounted()` is false and the test
// skips itself.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lpusim::testing {

class SmallDisk {
 public:
  static constexpr const char* kSize = "64k";

  // `read_only`: mounted read-only, a place even root cannot write.
  explicit SmallDisk(bool read_only = false) {
    std::string pattern = (std::filesystem::temp_directory_path() / "lpusim-disk-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      why_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    path_ = pattern;
    if (::geteuid() != 0) {
      why_ = "mounting a small tmpfs needs root";
      return;
    }
    const std::string options = std::string("size=") + kSize + ",mode=0777";
    const unsigned long flags = read_only ? MS_RDONLY : 0;
    if (::mount("tmpfs", path_.c_str(), "tmpfs", flags, options.c_str()) != 0) {
      why_ = std::string("mount -t tmpfs: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Writes a filler file until the disk is full (every page taken).
  void fill() const {
    std::ofstream filler(file(".filler"), std::ios::binary);
    const std::string block(4096, 'f');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      filler.flush();
    }
  }

  // Names of the entries other than the filler, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      const std::string name = e.path().filename().string();
      if (name != ".filler") names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
  std::string why_;
  bool mounted_ = false;
};

}  // namespace lpusim::testing

// Skips the calling test when `disk` could not be mounted.
#define LPUSIM_REQUIRE_SMALL_DISK(disk) \
  if (!(disk).mounted()) GTEST_SKIP() << (disk).why_not()
