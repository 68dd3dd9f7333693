/**
 * What the local runtime has started, stopped in reverse order: whatever fails to start stops what
 * started before it, and `stop()` stops everything once.
 */
export class Teardown {
  private readonly steps: Array<() => Promise<void> | void> = [];

  /** Registers a stop step; steps run last added, first run. */
  add(...steps: Array<() => Promise<void> | void>): void {
    this.steps.push(...steps);
  }

  /** Runs every step, newest first; a step that fails does not keep the others from running. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Stopping what may already be dead (Ctrl-C reaches the whole process group).
      }
    }
  }
}
