// The state icon of a VM, drawn with CSS classes (virt-manager's running/paused/off symbols), so it
// needs no image asset and no inline style.
import type { DomainView } from '../../../electron/contract/contract';

const labels: Record<DomainView['state'], string> = {
  running: 'Running',
  blocked: 'Blocked',
  paused: 'Paused',
  pmsuspended: 'Suspended',
  shutdown: 'Shutting down',
  shutoff: 'Shut off',
  crashed: 'Crashed',
  nostate: 'No state',
};

export function stateLabel(state: DomainView['state']): string {
  return labels[state];
}

export function StateIcon(props: { state: DomainView['state'] }) {
  return <span className={`state-icon state-${props.state}`} role="img" aria-label={labels[props.state]} title={labels[props.state]} />;
}
