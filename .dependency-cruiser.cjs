// The layer rules (README, Contributing: "The layers"), checked on every test run by
// `pnpm lint:layers`. Folders are the layers, from the bottom:
//   runner/      the contract, the ports, the reference runner (core over ports; node adapters)
//   fixtures/    known-bad runners (over runner/ only) and the fake agent
//   simulator/   the two worlds, the oracle, the trace, the scenario language, the hub
//   properties/  the generators and the property suite
//   cli/         the wiring: command lines, report writers, runner lookup by name
// A layer imports only the layers below it. Tests may reach across (a test of the CLI's output
// runs the simulator, say); bench/ is a client of everything.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runner-is-the-bottom',
      comment: 'runner/ is what other runners import: it knows nothing of the harness above it',
      severity: 'error',
      from: { path: '^runner/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(fixtures|simulator|properties|cli|bench)/' },
    },
    {
      name: 'core-over-ports-only',
      comment:
        "the reference runner's lifecycle core reaches the world only through the ports, never the Node adapters",
      severity: 'error',
      from: { path: '^runner/core/' },
      to: { path: '^runner/node/' },
    },
    {
      name: 'runners-use-the-contract-only',
      comment: 'a known-bad runner is written against runner/ like any outside runner',
      severity: 'error',
      from: { path: '^fixtures/runners/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(simulator|properties|cli|bench)/' },
    },
    {
      name: 'simulator-below-properties',
      comment: 'the worlds and the oracle never reach into the property suite or the wiring',
      severity: 'error',
      from: { path: '^simulator/', pathNot: '\\.test\\.ts$|test-support\\.ts$' },
      to: { path: '^(properties|cli|bench)/|^fixtures/runners/' },
    },
    {
      name: 'properties-below-cli',
      comment: 'the property suite is a library: the command line wires it, not the other way round',
      severity: 'error',
      from: { path: '^properties/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(cli|bench)/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
