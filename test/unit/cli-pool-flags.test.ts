// The run command's pool flags: --warm-pool and --saved-pool reach the scaling policy, keep across
// a --policy switch, and a bad count is a usage error naming the flag.
import { describe, expect, it } from 'vitest';
import { configFromFlags, UsageError } from '../../electron/cli/run-options';

describe('run flags for the warm and saved pools', () => {
  it('sets both pool sizes on the policy, also across a --policy switch', async () => {
    const config = await configFromFlags({ warmPool: '1', savedPool: '3' });
    expect(config.policy).toMatchObject({ warmPoolSize: 1, savedPoolSize: 3 });
    const switched = await configFromFlags({ policy: 'threshold', savedPool: '2' });
    expect(switched.policy).toMatchObject({ kind: 'threshold', savedPoolSize: 2 });
  });

  it('defaults the saved pool to none', async () => {
    expect((await configFromFlags({})).policy.savedPoolSize).toBe(0);
  });

  it('refuses a negative or fractional saved pool, naming the flag', async () => {
    await expect(configFromFlags({ savedPool: '-1' })).rejects.toThrow(UsageError);
    await expect(configFromFlags({ savedPool: '1.5' })).rejects.toThrow(/--saved-pool/);
  });
});
