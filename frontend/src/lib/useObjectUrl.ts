import { useEffect, useState } from 'react';

/** A blob: URL for a file, revoked when the file changes or the component goes away. */
export function useObjectUrl(file: Blob | null): string | null {
  const [entry, setEntry] = useState<{ file: Blob; url: string } | null>(null);
  useEffect(() => {
    if (!file) return;
    // The URL is an external resource: made here, revoked in the cleanup. (A useMemo'd URL
    // would be revoked by StrictMode's extra cleanup and then shown broken.)
    const url = URL.createObjectURL(file);
    // eslint-disable-next-line react-hooks/set-state-in-effect -- publishes the resource just created
    setEntry({ file, url });
    return () => URL.revokeObjectURL(url);
  }, [file]);
  return entry && entry.file === file ? entry.url : null;
}
