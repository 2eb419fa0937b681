/**
 * State that outlives package versions.
 *
 * Every resource's state (its outputs in Pulumi's state file) carries
 * `kairosState: { schema, writtenBy }`: the state schema this package wrote and the package version
 * that wrote it. A driver reads every earlier schema (each kind lists its migrations, one per schema
 * step; state from before versioning is schema 0) and refuses a newer one, naming the version that
 * wrote it, instead of guessing at fields it does not know.
 *
 * The engine keeps two things from the day a resource was last written: its outputs and the
 * serialized provider (`__provider`, ./driver-provider.ts), and it uses both for refresh and delete.
 * So `diff` reports a change (never a replacement) when the state is of an older schema or was
 * written through another provider text; the `update` that follows rewrites both, and after one
 * `pulumi up` with a new version every resource's state is current.
 */
import type { DriverOps } from "./driver-provider";

/** The schema this version writes. Bump it when any kind's state changes shape, with a migration. */
export const STATE_SCHEMA = 1;

/** Output field holding the stamp. */
export const STATE_KEY = "kairosState";

/** The engine's field with the serialized provider (@pulumi/pulumi cmd/dynamic-provider `providerKey`). */
const PROVIDER_KEY = "__provider";

type Props = Record<string, any>;

/** Turns state of schema n into schema n + 1. */
export type Migration = (props: Props) => Props;

export interface StateStamp {
  schema: number;
  /** Package version that wrote the state. */
  writtenBy: string;
}

/** This package's version, from its own package.json (resolved by name, as a program resolves it). */
export function packageVersion(): string {
  return (require("pulumi-kairos/package.json") as { version: string }).version;
}

/** Schema of a state; 0 for state written before versioning (pulumi-kairos 0.1.x). */
export function schemaOf(props: Props): number {
  const s = props?.[STATE_KEY]?.schema;
  return typeof s === "number" ? s : 0;
}

/** Thrown for state this version cannot read. */
export class StateTooNewError extends Error {}

/**
 * The state in the current schema. `what` names the resource in the error, e.g.
 * `kairos-libvirt:Domain 'x'`. Throws for a newer schema, naming the version that wrote it.
 */
export function upgradeState(what: string, props: Props, migrations: readonly Migration[] = []): Props {
  const schema = schemaOf(props);
  if (schema > STATE_SCHEMA) {
    const by = String(props[STATE_KEY]?.writtenBy ?? "a newer version");
    throw new StateTooNewError(
      `${what}: its state has schema ${schema}, written by pulumi-kairos ${by}; this is pulumi-kairos ${packageVersion()}, ` +
      `which reads schema ${STATE_SCHEMA} and earlier. Install pulumi-kairos ${by} or later in this program (npm install pulumi-kairos@${by}) and run again`,
    );
  }
  let p = props;
  for (let v = schema; v < STATE_SCHEMA; v++) p = migrations[v] ? migrations[v](p) : p;
  return p;
}

/** Outputs stamped with the current schema and version. */
export function stamp(outs: Props): Props {
  const s: StateStamp = { schema: STATE_SCHEMA, writtenBy: packageVersion() };
  return { ...outs, [STATE_KEY]: s };
}

/** `update` of a kind whose every real change replaces: only a stale state comes here; rewrite it. */
export async function rewriteState(_id: string, olds: Props): Promise<{ outs: Props }> {
  return { outs: olds };
}

/**
 * Wraps one kind's operations so that every read of old state goes through `upgradeState`, every
 * write is stamped, and stale state (older schema, other provider text) shows as a change that the
 * next `up` rewrites in place. Every kind implements `update`, even one whose diff only replaces:
 * a stale state is rewritten through it, secret outputs wrapped again.
 */
export function versioned(what: string, ops: DriverOps, migrations: readonly Migration[] = []): DriverOps {
  const label = (id: string, p: Props) => `${what} '${p?.name ?? id}'`;
  return {
    check: (olds, news) => ops.check(olds, news),
    async diff(id, olds, news) {
      const current = upgradeState(label(id, olds), olds, migrations);
      const r = await ops.diff(id, current, news);
      const stale = schemaOf(olds) < STATE_SCHEMA ||
        (typeof olds[PROVIDER_KEY] === "string" && typeof news[PROVIDER_KEY] === "string" && olds[PROVIDER_KEY] !== news[PROVIDER_KEY]);
      return stale && (r.replaces ?? []).length === 0 ? { ...r, changes: true } : r;
    },
    async create(inputs) {
      const r = await ops.create(inputs);
      return { id: r.id, outs: stamp(r.outs) };
    },
    async read(id, props) {
      const r = await ops.read(id, upgradeState(label(id, props), props, migrations));
      return r.id ? { id: r.id, props: stamp(r.props) } : r;
    },
    async update(id, olds, news) {
      const current = upgradeState(label(id, olds), olds, migrations);
      const r = await ops.update(id, current, news);
      return { outs: stamp(r.outs) };
    },
    async delete(id, props) {
      await ops.delete(id, upgradeState(label(id, props), props, migrations));
    },
  };
}
