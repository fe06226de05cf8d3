/** The parts of semver (which ships no types) that the tooling tests use. */
declare module 'semver' {
  interface SemVer {
    readonly version: string;
  }
  /** Whether every version `sub` admits is admitted by `dom`. */
  export function subset(sub: string, dom: string): boolean;
  export function minVersion(range: string): SemVer | null;
  export function gte(left: string, right: string): boolean;
  const semver: { subset: typeof subset; minVersion: typeof minVersion; gte: typeof gte };
  export default semver;
}
