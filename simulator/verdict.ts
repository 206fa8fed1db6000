// Whether a runner did what it declares: the reference must break nothing; a known-bad runner
// must be caught breaking at least one invariant it declares (that is how the harness shows it
// has teeth). Violations beyond the declaration are reported, not hidden.
import type { InvariantId } from '../runner/contract.ts';

export type VerdictKind = 'as-declared' | 'unexpected';

export function judge(declared: readonly InvariantId[], violated: readonly InvariantId[]): VerdictKind {
  if (declared.length === 0) return violated.length === 0 ? 'as-declared' : 'unexpected';
  return violated.some((id) => declared.includes(id)) ? 'as-declared' : 'unexpected';
}
