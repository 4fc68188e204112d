// The web mode's access token: random per start, printed in the URL, compared in constant time.
// It must never be logged apart from the one URL line the user asked for.
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, URL-safe (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison; a missing or differently sized candidate is simply unequal. */
export function tokensEqual(expected: string, candidate: string | null | undefined): boolean {
  if (typeof candidate !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(candidate, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
