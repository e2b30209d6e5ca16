import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

/**
 * Ends every run with one plain "N passed, N failed, N skipped" line that any CI can read.
 * A file or describe block that broke outside its tests (a failing beforeAll/afterAll, an import or syntax error)
 * counts each of its tests that did not pass as failed, not skipped; if that leaves nothing counted as failed
 * (no tests, or all passed before an afterAll threw), the broken block itself counts once.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed' || insideBrokenBlock(test)) counts.failed++;
        else counts.skipped++;
      }
      for (const block of [module, ...module.children.allSuites()]) {
        if (!isBroken(block)) continue;
        const failedWithin = [...block.children.allTests()].some((test) => test.result().state !== 'passed');
        if (!failedWithin) counts.failed++;
      }
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

/** A module or suite whose own hooks or collection threw: the errors sit on the block, not on a test. */
function isBroken(block: TestModule | TestSuite): boolean {
  if (block.errors().length > 0) return true;
  return block.type === 'module' && block.state() === 'failed' && [...block.children.allTests()].length === 0;
}

function insideBrokenBlock(test: TestCase): boolean {
  for (let block: TestModule | TestSuite = test.parent; ; block = block.parent) {
    if (isBroken(block)) return true;
    if (block.type === 'module') return false;
  }
}
