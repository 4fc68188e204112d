// The hot path of the collide search: the first 32 bits of SHA-256 of a message of at most 15
// bytes, computed in plain JavaScript. It must stay exact (checked against node:crypto on first use and
// in the unit tests) and must not be used for anything longer than MAX_FAST_MESSAGE_BYTES.
import { hash } from 'node:crypto';

/** Longest message the fast path handles: 15 bytes plus the 0x80 pad byte fill words 0–3. */
export const MAX_FAST_MESSAGE_BYTES = 15;

/**
 * Returns the first digest word (big-endian, unsigned) of SHA-256 of a one-block message whose
 * padded words 0–3 are `w0..w3`, words 4–14 are zero and word 15 is the length in bits.
 */
export type Sha256FirstWord = (w0: number, w1: number, w2: number, w3: number, bitLength: number) => number;

const ROUND_CONSTANTS = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/**
 * Builds the compression function's source fully unrolled, with the 16-word message schedule in
 * local variables and the eight working variables renamed each round instead of shifted. V8 keeps
 * all of it in registers, which measured ~1.5× faster than the loop form and ~5× faster than a
 * node:crypto call per message (whose per-call overhead dwarfs the hashing of 8 bytes).
 * Words 4–14 start as literal zeros, so the optimizer folds them away.
 */
function unrolledSource(): string {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const lines: string[] = [];
  lines.push(`let w4 = 0, w5 = 0, w6 = 0, w7 = 0, w8 = 0, w9 = 0, w10 = 0, w11 = 0, w12 = 0, w13 = 0, w14 = 0;`);
  lines.push(`let a = 0x6a09e667 | 0, b = 0xbb67ae85 | 0, c = 0x3c6ef372 | 0, d = 0xa54ff53a | 0;`);
  lines.push(`let e = 0x510e527f | 0, f = 0x9b05688c | 0, g = 0x1f83d9ab | 0, h = 0x5be0cd19 | 0;`);
  lines.push(`let t1 = 0, x = 0, y = 0;`);
  for (let round = 0; round < 64; round++) {
    const at = (k: number): string => names[(k - (round % 8) + 8) % 8] as string;
    const [A, B, C, D, E, F, G, H] = [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)];
    const w = `w${round & 15}`;
    if (round >= 16) {
      const w15 = `w${(round - 15) & 15}`;
      const w7 = `w${(round - 7) & 15}`;
      const w2 = `w${(round - 2) & 15}`;
      lines.push(
        `x = ${w15}; y = ${w2}; ${w} = (${w} + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + ${w7}` +
          ` + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;`,
      );
    }
    const k = (ROUND_CONSTANTS[round] as number) | 0;
    lines.push(
      `t1 = (${H} + (((${E} >>> 6) | (${E} << 26)) ^ ((${E} >>> 11) | (${E} << 21)) ^ ((${E} >>> 25) | (${E} << 7)))` +
        ` + ((${E} & ${F}) ^ (~${E} & ${G})) + ${k} + ${w}) | 0;`,
    );
    lines.push(`${D} = (${D} + t1) | 0;`);
    lines.push(
      `${H} = (t1 + (((${A} >>> 2) | (${A} << 30)) ^ ((${A} >>> 13) | (${A} << 19)) ^ ((${A} >>> 22) | (${A} << 10)))` +
        ` + ((${A} & ${B}) ^ (${C} & (${A} ^ ${B})))) | 0;`,
    );
  }
  // 64 rounds is a multiple of 8, so the names are back where they started.
  lines.push(`return (a + 0x6a09e667) >>> 0;`);
  return lines.join('\n');
}

/** Packs a message of at most 15 bytes into the padded words the fast function takes. */
export function packMessage(message: Uint8Array): [number, number, number, number, number] {
  if (message.length > MAX_FAST_MESSAGE_BYTES) throw new RangeError(`message of ${message.length} bytes is over ${MAX_FAST_MESSAGE_BYTES}`);
  const words = [0, 0, 0, 0];
  for (let k = 0; k < message.length; k++) words[k >> 2] = ((words[k >> 2] as number) | ((message[k] as number) << (24 - 8 * (k & 3)))) | 0;
  words[message.length >> 2] = ((words[message.length >> 2] as number) | (0x80 << (24 - 8 * (message.length & 3)))) | 0;
  return [words[0] as number, words[1] as number, words[2] as number, words[3] as number, message.length * 8];
}

function build(): Sha256FirstWord {
  // Generated once; the source is fixed above (no outside input reaches it).
  const fn = new Function('w0', 'w1', 'w2', 'w3', 'w15', unrolledSource()) as Sha256FirstWord;
  for (const sample of ['', '0', '9', '10', '12345678', '123456789012345', 'abc']) {
    const bytes = Buffer.from(sample, 'latin1');
    const expected = hash('sha256', bytes, 'buffer').readUInt32BE(0);
    if (fn(...packMessage(bytes)) !== expected) throw new Error(`sha256 fast path self-check failed for '${sample}'`);
  }
  return fn;
}

let built: Sha256FirstWord | null = null;

/**
 * The function computing the first digest word of SHA-256 of a packed message (see packMessage),
 * generated and self-checked on first use: only collide workers need it, and under emulation the
 * main thread's start-up should not pay for it.
 */
export function sha256FirstWordFunction(): Sha256FirstWord {
  built ??= build();
  return built;
}

/** True once sha256FirstWordFunction has built the function in this thread. */
export function isSha256FirstWordFunctionBuilt(): boolean {
  return built !== null;
}
