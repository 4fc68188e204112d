// Renderer entry point: the React UI arrives with the desktop issue.
// It runs in a sandboxed page and talks to the app only through the typed contract.
export const rendererPlaceholder = 'Cloud Management System';
