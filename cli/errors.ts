/** The errors a `pz` command throws for problems the user can fix, as opposed to bugs. */

/** A problem the user can fix (a bad option, an unreadable input, an unreachable worker): printed, exit code 2. */
export class CliError extends Error {}
/** A CliError about how the command was called: printed with the command's usage. */
export class UsageError extends CliError {}
