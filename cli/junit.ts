// A check report as JUnit XML, for CI dashboards: one test case per invariant.
import { INVARIANT_NAMES } from '../runner/contract.ts';
import type { CheckReport } from '../properties/check.ts';
import { formatCounterexample } from '../properties/check.ts';

const xml = (text: string): string =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function renderJunit(report: CheckReport): string {
  const cases = report.outcomes.map((o) => {
    const declared = report.declared.includes(o.invariant);
    const name = `${o.invariant} ${INVARIANT_NAMES[o.invariant]}${declared ? ' (declared broken)' : ''}`.trim();
    const open = `    <testcase classname="runner-chaos.${xml(report.runner)}" name="${xml(name)}" time="${(o.wallMs / 1000).toFixed(3)}">`;
    if (o.error !== undefined)
      return `${open}\n      <error message="${xml(o.error)}" type="harness"/>\n    </testcase>`;
    // A known-bad runner is "as declared" when it is caught breaking what it declares.
    const failed = declared ? o.held : !o.held;
    if (!failed) return `${open}</testcase>`;
    const message = declared
      ? `declared broken, but ${o.runs} scenarios found no violation`
      : (o.counterexample?.violations.find((v) => v.invariant === o.invariant)?.message ?? `${o.invariant} violated`);
    const body = o.counterexample !== undefined ? formatCounterexample(report.runner, o.counterexample) : message;
    return `${open}\n      <failure message="${xml(message)}" type="${o.invariant}">${xml(body)}</failure>\n    </testcase>`;
  });
  const failures = cases.filter((c) => c.includes('<failure')).length;
  const errors = cases.filter((c) => c.includes('<error')).length;
  const time = (report.wallMs / 1000).toFixed(3);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="runner-chaos" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time}">
  <testsuite name="runner-chaos: ${xml(report.runner)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** A black-box check (`check --http`) as JUnit XML: one test case per scenario. */
export function renderHttpJunit(
  command: string,
  results: readonly {
    scenario: string;
    violations: readonly { invariant: string; message: string }[];
    harnessErrors: readonly string[];
    /** What the scenario is for and did not reach (unless the user accepted that). */
    notExercised?: readonly string[];
  }[],
): string {
  const cases = results.map((r) => {
    const open = `    <testcase classname="runner-chaos.http" name="${xml(r.scenario)}">`;
    if (r.harnessErrors.length > 0)
      return `${open}\n      <error message="${xml(r.harnessErrors[0]!)}" type="harness">${xml(r.harnessErrors.join('\n'))}</error>\n    </testcase>`;
    const unexercised = r.notExercised ?? [];
    if (r.violations.length === 0 && unexercised.length > 0)
      return `${open}\n      <error message="not exercised: ${xml(unexercised[0]!)}" type="not-exercised">${xml(unexercised.join('\n'))}</error>\n    </testcase>`;
    if (r.violations.length === 0) return `${open}</testcase>`;
    const body = r.violations.map((v) => `${v.invariant}: ${v.message}`).join('\n');
    return `${open}\n      <failure message="${xml(r.violations[0]!.message)}" type="${xml(r.violations[0]!.invariant)}">${xml(body)}</failure>\n    </testcase>`;
  });
  const failures = cases.filter((c) => c.includes('<failure')).length;
  const errors = cases.filter((c) => c.includes('<error')).length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="runner-chaos" tests="${cases.length}" failures="${failures}" errors="${errors}">
  <testsuite name="runner-chaos --http: ${xml(command)}" tests="${cases.length}" failures="${failures}" errors="${errors}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
