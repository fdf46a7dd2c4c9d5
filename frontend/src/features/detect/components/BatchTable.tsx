import { useState } from 'react';
import type { Ref } from 'react';
import type { ApiError } from '../../../api/errors';
import type { DetectionResult } from '../../../api/types';
import { percent } from '../../../lib/format';
import { useObjectUrl } from '../../../lib/useObjectUrl';
import { VERDICT_LABEL, verdictNote } from '../verdict';

export interface BatchRow {
  file: File;
  result: DetectionResult | null;
  error: ApiError | null;
}

interface Props {
  rows: BatchRow[];
  onShowDetails: (index: number) => void;
  headingRef?: Ref<HTMLHeadingElement>;
}

function Thumbnail({ file }: { file: File }) {
  const src = useObjectUrl(file);
  const [broken, setBroken] = useState(false);
  // A file the browser cannot draw (not an image, TIFF in most browsers) gets a blank tile.
  if (!src || broken) return <span className="thumb" />;
  return <img className="thumb" src={src} alt="" onError={() => setBroken(true)} />;
}

/**
 * A file name on one line, cut with an ellipsis when the column is narrow (phones): never
 * broken mid-word. The full name is in the title, and a tap shows it (on a row with a
 * result the tap opens the full report, which names the file).
 */
function FileName({ name }: { name: string }) {
  const [open, setOpen] = useState(false);
  return (
    <button
      type="button"
      className="link-button batch__toggle"
      aria-expanded={open}
      aria-label={open ? name : `${name} (show the full name)`}
      title={name}
      onClick={() => setOpen((o) => !o)}
    >
      <span className={open ? 'batch__filename batch__filename--full' : 'batch__filename'}>{name}</span>
    </button>
  );
}

/** One row per file, in the order chosen; a failed file gets its own message, not a failed table. */
export function BatchTable({ rows, onShowDetails, headingRef }: Props) {
  const okCount = rows.filter((r) => r.result).length;
  return (
    <section className="card" aria-labelledby="batch-heading">
      <h2 id="batch-heading" ref={headingRef} tabIndex={-1}>
        Results for {rows.length} pictures
      </h2>
      <p className="hint">
        {okCount} analysed{rows.length - okCount > 0 ? `, ${rows.length - okCount} could not be analysed` : ''}.
        {okCount > 0 && ' Select a file name for its full report.'}
      </p>
      <div className="table-wrap">
        <table className="batch">
          <caption className="visually-hidden">Verdict and AI probability per picture</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Thumbnail</span>
              </th>
              <th scope="col">File</th>
              <th scope="col">Verdict</th>
              <th scope="col">AI probability</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={`${row.file.name}-${i}`} className={row.error ? 'batch__row--error' : undefined}>
                <td>
                  <Thumbnail file={row.file} />
                </td>
                <th scope="row" className="batch__name">
                  {row.result ? (
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`Details for ${row.file.name}`}
                      title={row.file.name}
                      onClick={() => onShowDetails(i)}
                    >
                      <span className="batch__filename">{row.file.name}</span>
                    </button>
                  ) : (
                    <FileName name={row.file.name} />
                  )}
                </th>
                {row.result ? (
                  <>
                    <td>
                      <span className={`tag tag--${row.result.verdict}`}>{VERDICT_LABEL[row.result.verdict]}</span>
                      {verdictNote(row.result) && <span className="batch__note">{verdictNote(row.result)}</span>}
                    </td>
                    <td>{percent(row.result.ai_probability)}</td>
                  </>
                ) : (
                  <td colSpan={2} className="batch__error">
                    <span className="visually-hidden">Error: </span>
                    {row.error?.message ?? 'Not analysed.'}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
