// LineFramer: splitting a byte stream into JSON lines with a hard length cap.
// Chunks are cut at awkward places to prove lines survive any split.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineFramer, type LineEvent } from '../../guest-server/src/ndjson';

function collect(maxLineBytes: number, chunks: Buffer[]): LineEvent[] {
  const events: LineEvent[] = [];
  const framer = new LineFramer(maxLineBytes, (event) => events.push(event));
  for (const chunk of chunks) framer.push(chunk);
  return events;
}

describe('LineFramer', () => {
  it('yields each line once, whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii' }).filter((s) => !s.includes('\n') && !s.endsWith('\r')), { maxLength: 20 }), fc.array(fc.nat(50), { maxLength: 10 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const chunks: Buffer[] = [];
        let at = 0;
        for (const cut of cuts) {
          const end = Math.min(bytes.length, at + cut);
          chunks.push(bytes.subarray(at, end));
          at = end;
        }
        chunks.push(bytes.subarray(at));
        const events = collect(1024, chunks);
        expect(events).toEqual(lines.map((text) => ({ kind: 'line', text })));
      }),
    );
  });

  it('strips a trailing carriage return', () => {
    expect(collect(100, [Buffer.from('{"t":"ping"}\r\n')])).toEqual([{ kind: 'line', text: '{"t":"ping"}' }]);
  });

  it('reports an over-long line once and stops, even before its newline arrives', () => {
    const events = collect(10, [Buffer.from('ok\n'), Buffer.from('x'.repeat(8)), Buffer.from('y'.repeat(8)), Buffer.from('\nlater\n')]);
    expect(events).toEqual([{ kind: 'line', text: 'ok' }, { kind: 'too_long', bytes: 16 }]);
  });

  it('accepts a line of exactly the limit', () => {
    expect(collect(5, [Buffer.from('12345\n')])).toEqual([{ kind: 'line', text: '12345' }]);
  });
});
