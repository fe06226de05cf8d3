/** The parts of semver (which ships no types) that `npm start` and the tooling tests use. */
declare module 'semver' {
  interface SemVer {
    readonly version: string;
  }
  /** Whether every version `sub` admits is admitted by `dom`. */
  export function subset(sub: string, dom: string): boolean;
  export function minVersion(range: string): SemVer | null;
  export function gte(left: string, right: string): boolean;
  export function satisfies(version: string, range: string): boolean;
  const semver: { subset: typeof subset; minVersion: typeof minVersion; gte: typeof gte; satisfies: typeof satisfies };
  export default semver;
}
