// The tray icon: tooltip and icon from the pool state, menu Show / Pause load / Scale to… / Quit.
// Glue only: the text, the icon choice and the scale sizes come from electron/core/desktop/tray.
import { join } from 'node:path';
import { Menu, nativeImage, Tray, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import { scaleChoices, trayIconName, trayIconNames, trayTooltip, type TrayIconName, type TrayState } from '../core/desktop/tray';

export interface TrayActions {
  show(): void;
  setLoadPaused(paused: boolean): void;
  scaleTo(count: number): void;
  quit(): void;
}

export interface AppTray {
  /** Re-renders from the latest state; cheap when nothing visible changed. */
  update(state: TrayState | null, quitLabel: string): void;
  destroy(): void;
}

export function createAppTray(iconDir: string, actions: TrayActions): AppTray {
  const icons = new Map<TrayIconName, NativeImage>(trayIconNames.map((name) => [name, nativeImage.createFromPath(join(iconDir, `tray-${name}.png`))]));
  const tray = new Tray(icons.get('idle') ?? nativeImage.createEmpty());
  tray.setToolTip('Cloud Management System: starting…');
  let menuKey = '';
  let icon: TrayIconName = 'idle';

  function buildMenu(state: TrayState | null): Menu {
    const paused = state ? state.load.paused || !state.load.running : false;
    const quitting = state?.quitting ?? false;
    const scaleItems: MenuItemConstructorOptions[] = state
      ? scaleChoices(state.pool).map((choice) => ({ label: String(choice.count), type: 'radio', checked: choice.current, click: () => actions.scaleTo(choice.count) }))
      : [];
    return Menu.buildFromTemplate([
      { label: 'Show', click: () => actions.show() },
      { label: 'Pause load', type: 'checkbox', checked: paused, enabled: state !== null && !quitting, click: () => actions.setLoadPaused(!paused) },
      { label: 'Scale to…', enabled: state !== null && !quitting, submenu: scaleItems.length > 0 ? scaleItems : [{ label: 'waiting for the pool', enabled: false }] },
      { type: 'separator' },
      { label: quitting ? 'Quitting…' : 'Quit', enabled: !quitting, click: () => actions.quit() },
    ]);
  }

  return {
    update(state, quitLabel) {
      tray.setToolTip(state ? trayTooltip(state, quitLabel || undefined) : quitLabel || 'Cloud Management System: starting…');
      const nextIcon = state ? trayIconName(state) : 'idle';
      if (nextIcon !== icon) {
        icon = nextIcon;
        const image = icons.get(nextIcon);
        if (image) tray.setImage(image);
      }
      // The menu only depends on these; rebuilding it ten times a second would flicker an open menu.
      const key = state ? JSON.stringify([state.load.paused, state.load.running, state.pool.desired, state.pool.max, state.quitting]) : 'none';
      if (key !== menuKey) {
        menuKey = key;
        tray.setContextMenu(buildMenu(state));
      }
    },
    destroy() {
      tray.destroy();
    },
  };
}
