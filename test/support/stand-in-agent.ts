// A registered guest as the pool sees it, for pool tests on the test driver: it answers (or
// refuses) the pool's warm-up requests, can hold back its "thread ready" report, counts ejects, and
// reports each park to `onPark` (so a test can see it came before the save).
import type { PoolAgent } from '../../electron/core/pool/types';

export class StandInAgent implements PoolAgent {
  readonly address = '127.0.0.1:1';
  readonly healthy = true;
  readonly outstanding = 0;
  readonly registeredAtMs = 0;
  readonly lastLoad = null;
  readonly requests: Array<{ word: string; digits: number }> = [];
  ejected = 0;
  markThreadsReady: () => void = () => {};
  private readonly threadsReady = new Promise<void>((resolve) => (this.markThreadsReady = resolve));

  constructor(
    readonly uuid: string,
    private readonly options: { answers?: boolean; threadsReadyAtOnce?: boolean; onPark?: () => void; knowsPark?: boolean } = {},
  ) {
    if (options.threadsReadyAtOnce ?? true) this.markThreadsReady();
  }

  whenThreadsReady(): Promise<void> {
    return this.threadsReady;
  }

  eject(): void {
    this.ejected += 1;
  }

  setHeartbeatExempt(): void {}

  async park(): Promise<void> {
    this.options.onPark?.();
    if (this.options.knowsPark === false) throw new Error('guest abc: unknown_type: t: unknown type park');
  }

  async collide(word: string, digits: number): Promise<unknown> {
    this.requests.push({ word, digits });
    if (this.options.answers === false) throw new Error('agent request timed out after 10000 ms');
    return { t: 'result', match: '0', attempts: 1, ms: 1 };
  }
}
