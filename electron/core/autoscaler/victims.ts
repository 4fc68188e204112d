// Which members to stop on a scale-down: idle first. Pure ordering over MemberView; the pool
// drains and stops the ones named here. Never returns more ids than asked for.
import type { MemberView } from './inputs';

/**
 * Chooses up to `count` members to remove, in this order (the first key that differs wins):
 *  1. booting before healthy — a member still booting serves nothing and holds no work, so
 *     stopping it costs nothing (Kubernetes' ReplicaSet deletes not-ready pods first, too);
 *  2. fewest requests in flight (0 first) — nothing in flight is disturbed or has to drain;
 *  3. lowest last-heartbeat busy fraction (no heartbeat yet counts as 0);
 *  4. newest first (latest startedAtMs) — the least warmed, and the oldest keep serving;
 *  5. id, so the choice is deterministic.
 * Draining and paused members are not candidates: they already do not count toward capacity.
 */
export function chooseVictims(members: readonly MemberView[], count: number): string[] {
  if (!Number.isFinite(count) || count <= 0) return [];
  const candidates = members.filter((member) => member.state === 'booting' || member.state === 'healthy');
  const stateRank = (member: MemberView): number => (member.state === 'booting' ? 0 : 1);
  candidates.sort(
    (a, b) =>
      stateRank(a) - stateRank(b) ||
      a.outstanding - b.outstanding ||
      (a.busy ?? 0) - (b.busy ?? 0) ||
      b.startedAtMs - a.startedAtMs ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return candidates.slice(0, Math.floor(count)).map((member) => member.id);
}
