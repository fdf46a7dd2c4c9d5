import type { ApiError } from '../../../api/errors';

interface Props {
  error: ApiError;
  title?: string;
  /** The files the error is about: named in the title. */
  fileNames?: string[];
  onRetry?: () => void;
}

function aboutFiles(names: string[]): string {
  if (names.length === 1) return ` for ${names[0]}`;
  if (names.length > 1) return ` for ${names.length} pictures (${names.join(', ')})`;
  return '';
}

/** A failure in plain words, announced at once (role="alert"), technical detail folded away. */
export function ErrorMessage({ error, title, fileNames = [], onRetry }: Props) {
  return (
    <div className="error" role="alert">
      <p className="error__title">{title ?? `That did not work${aboutFiles(fileNames)}`}</p>
      <p>{error.message}</p>
      {(error.detail || error.status > 0) && (
        <details className="error__details">
          <summary>Technical details</summary>
          <p>
            {error.status > 0 ? `HTTP ${error.status}, ` : ''}code <code>{error.code}</code>
            {error.detail ? `: ${error.detail}` : ''}
          </p>
        </details>
      )}
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
