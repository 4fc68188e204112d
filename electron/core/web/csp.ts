// The Content-Security-Policy both carriers send with the UI: the Electron window (app:// scheme,
// set from main on every response) and the web mode's HTTP server. One string, built here, so the
// two cannot drift. It must stay strict: no inline script, no eval, no remote origins.

export interface CspOptions {
  /** Extra connect-src sources (the web mode adds its own ws:// origin). @default [] */
  connectSrc?: readonly string[];
}

/** Allowed in a connect-src source: a scheme://host[:port] with no quotes, spaces or semicolons. */
const SOURCE_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9.[\]:-]+$/;

/**
 * The policy. React sets styles through the CSSOM (element.style), which style-src does not restrict,
 * so the UI needs no 'unsafe-inline'; bundled CSS files load from 'self'.
 */
export function contentSecurityPolicy(options: CspOptions = {}): string {
  const connect = ["'self'", ...(options.connectSrc ?? []).filter((source) => SOURCE_PATTERN.test(source))];
  const directives: Array<[string, string[]]> = [
    ['default-src', ["'none'"]],
    ['script-src', ["'self'"]],
    ['style-src', ["'self'"]],
    ['img-src', ["'self'", 'data:']],
    ['font-src', ["'self'"]],
    ['connect-src', connect],
    ['worker-src', ["'none'"]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}

/** Headers every UI response carries besides the CSP (no framing, no sniffing, no referrer: the URL holds the token). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
