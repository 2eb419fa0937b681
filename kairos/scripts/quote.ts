/**
 * POSIX shell quoting for the commands sent over SSH. An SSH exec request is a single string that
 * the remote user's login shell parses, so every argument that came from input is quoted here.
 */

/** Quotes one argument for a POSIX shell: bare when it is plainly safe, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg.length > 0 && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one shell command line, quoting each argument. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
