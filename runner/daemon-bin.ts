#!/usr/bin/env node
// The `runner-chaos-runner` bin (`pnpm runner`): the reference runner as a daemon. Always runs;
// see simulator/cli/bin.ts for why there is no entry-point test.
import { daemonMain } from './daemon.ts';

await daemonMain(process.argv.slice(2));
