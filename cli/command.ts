/** What every `pz` command module exports: its usage text and the function that runs it. */

/** A command: `usage` is printed by `pz <command> --help`; `run` returns the exit code. */
export interface Command {
  usage: string;
  run(args: string[]): Promise<number>;
}
