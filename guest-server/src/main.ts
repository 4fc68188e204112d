// Guest server entry point (placeholder until the guest server lands).
// Bundled into guest-server/dist/guest-server.js, which runs with plain node in every VM.
import { PROTOCOL_VERSION } from './protocol';

console.log(JSON.stringify({ event: 'placeholder', version: PROTOCOL_VERSION }));
