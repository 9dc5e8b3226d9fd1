// Each subcommand registers itself on the root CLI11 app and runs through one callback.
// Exit codes follow one convention across the tool (see docs/cli.md).
#pragma once
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdlib>
#include <string>

namespace sw::cli {

enum ExitCode : int {
  kOk = 0,        // done, nothing alarming
  kFindings = 1,  // done, and something needs an admin's attention
  kUsage = 2,     // bad arguments or unreadable input
  kFailure = 3,   // the environment failed us (Exim missing, disk full, ...)
};

// Checks for numeric options. CLI11 reads "-1" into an unsigned option as a huge number and
// takes any double for a share, so every number an admin types is checked here.
// (CLI11's own NonNegativeNumber prints its range as 300 digits.)
inline CLI::Validator whole_number(long long min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        long long v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size() && v >= min) return {};
        return "'" + text + "' is not a whole number of at least " + std::to_string(min);
      },
      "");
}
inline const CLI::Validator kCount = whole_number(0);
inline const CLI::Validator kPositiveCount = whole_number(1);
inline const CLI::Validator kPositiveFactor(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      return (!text.empty() && *end == '\0' && v > 0) ? "" : "'" + text + "' is not a number above 0";
    },
    "");
// A number within [min, max], refused in words ("'2' is not a share from 0 to 1"), not as
// CLI11's "Value 2 not in range 0.000000 to 1.000000".
inline CLI::Validator number_in(double min, double max, std::string what) {
  return CLI::Validator(
      [min, max, what](std::string& text) -> std::string {
        char* end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (!text.empty() && *end == '\0' && v >= min && v <= max) return {};
        return "'" + text + "' is not " + what;
      },
      "");
}
inline const CLI::Validator kThreadCount = whole_number(0) & number_in(0, 256, "0 (automatic) to 256 threads");
inline const CLI::Validator kShare = number_in(0, 1, "a share from 0 to 1");
inline const CLI::Validator kPercent = number_in(0, 100, "a percentage from 0 to 100");

// --help without the parser's type notes ("FLOAT:a share from 0 to 1=0.5"): a plain
// placeholder after each option, its default at the end of its description.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
    std::string type = opt->get_type_name();
    if (opt->get_type_size() == 0 || type.empty()) return "";  // a flag
    type = type.substr(0, type.find(':'));
    if (type == "UINT" || type == "INT") type = "N";
    else if (type == "FLOAT") type = "NUMBER";
    else type = "TEXT";
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) type += " ...";
    return " " + type + (opt->get_required() ? " (required)" : "");
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string desc = opt->get_description();
    if (!opt->get_default_str().empty() && desc.find("default") == std::string::npos)
      desc += " (default " + opt->get_default_str() + ")";
    return desc;
  }
};

// Registration functions; each adds one subcommand and stores its exit code in *result.
void add_logs_command(CLI::App& app, int* result);
void add_queue_command(CLI::App& app, int* result);
void add_watch_commands(CLI::App& app, int* result);  // watch, holds, release, config check
void add_serve_command(CLI::App& app, int* result);

}  // namespace sw::cli
