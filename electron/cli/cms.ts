// Headless entry point `cms`: serve, run and guest tools (filled in by the control-plane issue).
// Plain Node: it must never import Electron, so it runs on hosts without a display.
const [command = 'help'] = process.argv.slice(2);

if (command === 'start') {
  console.log('cms start: the control plane arrives with the next issue; set-up is complete.');
} else {
  console.log('usage: cms <start|help>');
}
