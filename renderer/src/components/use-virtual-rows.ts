// Fixed-height list virtualization: which rows of a scrolled container to mount, so a list of
// hundreds of VMs (or thousands of log entries) keeps a few dozen DOM rows. It reads the scroll
// offset in the scroll event and the height from ResizeObserver, never during a render, so a store
// update never forces a layout; and it re-renders only when the first visible row changes.
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

export interface VirtualRows {
  containerRef: RefObject<HTMLDivElement | null>;
  /** First and one-past-last row index to render. */
  start: number;
  end: number;
  /** Rows that fit in the viewport (PageUp/PageDown step). */
  pageRows: number;
  /** Distinct React keys needed so that a row scrolled in reuses the DOM of the row scrolled out:
   *  key rows by `index % slotCount`. Always larger than end − start. */
  slotCount: number;
  onScroll: () => void;
  /** Scrolls just enough to show the row. */
  scrollToIndex: (index: number) => void;
}

export function useVirtualRows(count: number, rowHeightPx: number, overscanRows = 6): VirtualRows {
  const containerRef = useRef<HTMLDivElement | null>(null);
  const heightPxRef = useRef(600);
  const [range, setRange] = useState({ first: 0, visible: Math.ceil(600 / rowHeightPx) });

  const update = useCallback(
    (scrollTopPx: number) => {
      const first = Math.floor(scrollTopPx / rowHeightPx);
      const visible = Math.ceil(heightPxRef.current / rowHeightPx);
      setRange((prev) => (prev.first === first && prev.visible === visible ? prev : { first, visible }));
    },
    [rowHeightPx],
  );

  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    heightPxRef.current = el.clientHeight;
    update(el.scrollTop);
    const observer = new ResizeObserver((entries) => {
      const entry = entries[entries.length - 1];
      if (entry) heightPxRef.current = entry.contentRect.height;
      update(el.scrollTop);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [update]);

  const onScroll = useCallback(() => {
    const el = containerRef.current;
    if (el) update(el.scrollTop);
  }, [update]);

  const scrollToIndex = useCallback(
    (index: number) => {
      const el = containerRef.current;
      if (!el || index < 0) return;
      const topPx = index * rowHeightPx;
      if (topPx < el.scrollTop) el.scrollTop = topPx;
      else if (topPx + rowHeightPx > el.scrollTop + el.clientHeight) el.scrollTop = topPx + rowHeightPx - el.clientHeight;
    },
    [rowHeightPx],
  );

  return {
    containerRef,
    start: Math.max(0, range.first - overscanRows),
    end: Math.min(count, range.first + range.visible + overscanRows),
    pageRows: Math.max(1, range.visible - 1),
    slotCount: range.visible + 2 * overscanRows + 1,
    onScroll,
    scrollToIndex,
  };
}
