#!/usr/bin/env node
// Draws the app and tray icons as PNGs from code (no image tools on the build machines): the app
// icon at every size the Linux packages use, and one tray icon per pool state. Deterministic, so
// the committed PNGs can be re-made at will: `node build/icons/make-icons.mjs`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** RGBA pixels (Uint8Array, width*height*4) → PNG bytes. */
function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) Buffer.from(rgba.buffer, y * width * 4, width * 4).copy(rows, y * (width * 4 + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const hex = (value) => [parseInt(value.slice(1, 3), 16), parseInt(value.slice(3, 5), 16), parseInt(value.slice(5, 7), 16), 255];
const roundRect = (x0, y0, x1, y1, r, color) => ({ color: hex(color), inside: (x, y) => {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
} });
const circle = (cx, cy, r, color) => ({ color: hex(color), inside: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r });

/** Shapes in unit coordinates, painted in order; 4×4 supersampling for smooth edges. */
function render(size, shapes) {
  const pixels = new Uint8Array(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size;
          const y = (py + (sy + 0.5) / n) / size;
          let color = [0, 0, 0, 0];
          for (const shape of shapes) if (shape.inside(x, y)) color = shape.color;
          // Premultiplied, so transparent samples do not darken the edges.
          sum[0] += color[0] * color[3];
          sum[1] += color[1] * color[3];
          sum[2] += color[2] * color[3];
          sum[3] += color[3];
        }
      }
      const i = (py * size + px) * 4;
      const alpha = sum[3] / (n * n);
      pixels[i] = sum[3] ? Math.round(sum[0] / sum[3]) : 0;
      pixels[i + 1] = sum[3] ? Math.round(sum[1] / sum[3]) : 0;
      pixels[i + 2] = sum[3] ? Math.round(sum[2] / sum[3]) : 0;
      pixels[i + 3] = Math.round(alpha);
    }
  }
  return encodePng(size, size, pixels);
}

/** Three server bars with a status light each: the pool. */
function servers(x0, x1, top, height, gap, lights) {
  const shapes = [];
  for (let i = 0; i < 3; i++) {
    const y = top + i * (height + gap);
    shapes.push(roundRect(x0, y, x1, y + height, height * 0.22, '#e8eef5'));
    shapes.push(circle(x1 - height * 0.55, y + height / 2, height * 0.2, lights[i]));
  }
  return shapes;
}

const appIcon = [roundRect(0.06, 0.06, 0.94, 0.94, 0.18, '#1f3a5f'), ...servers(0.22, 0.78, 0.24, 0.14, 0.05, ['#3fb950', '#3fb950', '#d29922'])];
for (const size of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(join(here, `${size}x${size}.png`), render(size, appIcon));
writeFileSync(join(here, 'app.png'), render(256, appIcon));

const trayColors = { ok: '#2ea043', scaling: '#1f6feb', degraded: '#d1242f', idle: '#6e7781', quitting: '#bf8700' };
for (const [name, color] of Object.entries(trayColors)) {
  const shapes = [circle(0.5, 0.5, 0.47, color), ...servers(0.24, 0.76, 0.25, 0.13, 0.06, ['#ffffff', '#ffffff', '#ffffff']).filter((_, i) => i % 2 === 0).map((s) => ({ ...s, color: hex('#ffffff') }))];
  writeFileSync(join(here, `tray-${name}.png`), render(32, shapes));
  writeFileSync(join(here, `tray-${name}@2x.png`), render(64, shapes));
}
console.log(`icons written to ${here}`);
