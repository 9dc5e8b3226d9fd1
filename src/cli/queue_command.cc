// Placeholder until the queue subcommand lands: keeps the binary linking.
#include "cli/commands.h"

namespace sw::cli {
void add_queue_command(CLI::App&, int*) {}
}  // namespace sw::cli
