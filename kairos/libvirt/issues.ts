/**
 * Input checks shared by the libvirt XML builders: each returns every problem as a
 * {@link ValidationIssue} (field path, offending value, what is accepted), and `assertNoIssues`
 * turns a non-empty list into one error whose lines each name a field.
 */
import type { ValidationIssue } from "../cloudconfig/model";

export type { ValidationIssue };

export class LibvirtSpecError extends Error {
  constructor(readonly issues: readonly ValidationIssue[], what: string) {
    super(`invalid ${what}:\n` + issues.map((i) => `  ${i.path}: ${i.value} is not valid; expected ${i.expected}`).join("\n"));
    this.name = "LibvirtSpecError";
  }
}

export function assertNoIssues(issues: readonly ValidationIssue[], what: string): void {
  if (issues.length > 0) throw new LibvirtSpecError(issues, what);
}

export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  return JSON.stringify(value) ?? String(value);
}

/** libvirt object names: what `physicalName` produces, and what virsh accepts without quoting. */
export const OBJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkName(issues: ValidationIssue[], path: string, value: unknown): void {
  if (typeof value !== "string" || !OBJECT_NAME.test(value)) {
    issues.push({ path, value: show(value), expected: "1-100 characters of [A-Za-z0-9._-], starting with a letter or digit" });
  }
}

export function checkInt(issues: ValidationIssue[], path: string, value: unknown, min: number, max: number, unit = ""): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    issues.push({ path, value: show(value), expected: `an integer from ${min} to ${max}${unit ? " " + unit : ""}` });
  }
}

export function checkOneOf(issues: ValidationIssue[], path: string, value: unknown, accepted: readonly string[]): void {
  if (typeof value !== "string" || !accepted.includes(value)) {
    issues.push({ path, value: show(value), expected: `one of ${accepted.map((a) => `'${a}'`).join(", ")}` });
  }
}

export function checkAbsolutePath(issues: ValidationIssue[], path: string, value: unknown): void {
  if (typeof value !== "string" || !value.startsWith("/") || value.includes("\0")) {
    issues.push({ path, value: show(value), expected: "an absolute path" });
  }
}
