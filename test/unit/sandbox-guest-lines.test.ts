// Guest output in the manager's log: a guest's JSON log line keeps its own level, so routine info
// lines from sandbox guests do not flood the log as warnings; other stderr text stays a warning.
import { describe, expect, it } from 'vitest';
import { guestLineLevel } from '../../electron/core/sandbox/guest-runtime';

describe('guestLineLevel', () => {
  it('reads the level of a JSON log line', () => {
    expect(guestLineLevel('{"ts":"x","level":"info","event":"listening","port":1}')).toBe('info');
    expect(guestLineLevel('{"level":"error","event":"fatal"}')).toBe('error');
  });

  it('has no level for plain text, broken JSON or an unknown level', () => {
    expect(guestLineLevel('guest-server: Option --x is unknown')).toBeUndefined();
    expect(guestLineLevel('{"level":"info"')).toBeUndefined();
    expect(guestLineLevel('{"level":"loud"}')).toBeUndefined();
    expect(guestLineLevel('[1,2]')).toBeUndefined();
  });
});
