import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, messageForCode } from '../../../api/errors';
import type { DetectionResult, ModelsResponse } from '../../../api/types';
import { formatMs, percent } from '../../../lib/format';
import { detectBatch, detectImage } from '../api/detect';
import type { ModelsState } from '../api/useModels';
import { DEFAULT_LIMITS, checkBatchSize, checkFile } from '../validate';
import { VERDICT_LABEL, verdictExplanation } from '../verdict';
import { BatchTable } from './BatchTable';
import type { BatchRow } from './BatchTable';
import { ErrorMessage } from './ErrorMessage';
import { ImagePicker } from './ImagePicker';
import { ModelSelector } from './ModelSelector';
import { ResultView } from './ResultView';

type Job =
  | { kind: 'idle' }
  | { kind: 'running'; files: File[] }
  | { kind: 'single'; file: File; result: DetectionResult; roundTripMs: number }
  | { kind: 'batch'; rows: BatchRow[]; detail: number | null }
  | { kind: 'error'; files: File[]; names: string[]; error: ApiError };

const RETRYABLE = new Set(['network_error', 'client_timeout', 'not_ready', 'overloaded', 'timeout', 'rate_limited']);

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(String(err), { status: 0, code: 'unknown' });
}

interface Props {
  models: ModelsState & { reload: () => void };
}

export function DetectPage({ models }: Props) {
  const info: ModelsResponse | null = models.data;
  const limits = info?.limits ?? DEFAULT_LIMITS;
  const [chosenModel, setChosenModel] = useState<string | null>(null);
  const model = chosenModel ?? info?.default_model ?? undefined;
  const [job, setJob] = useState<Job>({ kind: 'idle' });
  const [announcement, setAnnouncement] = useState('');
  const controllerRef = useRef<AbortController | null>(null);
  const resultHeadingRef = useRef<HTMLHeadingElement>(null);
  const batchHeadingRef = useRef<HTMLHeadingElement>(null);

  const analyze = useCallback(
    async (files: File[]) => {
      if (files.length === 0) return;
      controllerRef.current?.abort();
      const controller = new AbortController();
      controllerRef.current = controller;
      const opts = { model, limits, signal: controller.signal };

      const tooMany = checkBatchSize(files.length, limits);
      if (tooMany) {
        setJob({ kind: 'error', files: [], names: files.map((f) => f.name), error: tooMany });
        setAnnouncement(tooMany.message);
        return;
      }
      const checks = files.map((f) => checkFile(f, limits));
      if (files.length === 1 && checks[0]) {
        setJob({ kind: 'error', files: [], names: [files[0]!.name], error: checks[0] });
        setAnnouncement(`${files[0]!.name}: ${checks[0].message}`);
        return;
      }

      setJob({ kind: 'running', files });
      setAnnouncement(files.length === 1 ? `Analysing ${files[0]!.name}…` : `Analysing ${files.length} pictures…`);
      const started = performance.now();
      try {
        if (files.length === 1) {
          const file = files[0]!;
          const result = await detectImage(file, { ...opts, heatmap: true });
          setJob({ kind: 'single', file, result, roundTripMs: performance.now() - started });
          setAnnouncement(
            result.verdict === 'out_of_scope'
              ? `Result for ${file.name}: ${verdictExplanation(result)}`
              : `Result for ${file.name}: ${VERDICT_LABEL[result.verdict]}, ${percent(result.ai_probability)} probability of being AI-generated.`,
          );
        } else {
          const toSend = files.filter((_, i) => !checks[i]);
          const answers = toSend.length > 0 ? (await detectBatch(toSend, opts)).results : [];
          let next = 0;
          const rows: BatchRow[] = files.map((file, i) => {
            const local = checks[i];
            if (local) return { file, result: null, error: local };
            const item = answers[next++];
            if (item?.ok && item.result) return { file, result: item.result, error: null };
            const code = item?.error?.code ?? 'bad_response';
            const error = new ApiError(messageForCode(code, limits) ?? item?.error?.detail ?? code, {
              status: 0,
              code,
              detail: item?.error?.detail,
            });
            return { file, result: null, error };
          });
          setJob({ kind: 'batch', rows, detail: null });
          const ok = rows.filter((r) => r.result).length;
          setAnnouncement(`Batch finished in ${formatMs(performance.now() - started)}: ${ok} of ${rows.length} pictures analysed.`);
        }
      } catch (err) {
        const error = asApiError(err);
        // Aborts are deliberate (Cancel, a newer upload, leaving the page): nothing to report.
        if (error.code === 'aborted') return;
        setJob({ kind: 'error', files, names: files.map((f) => f.name), error });
        setAnnouncement(files.length === 1 ? `${files[0]!.name}: ${error.message}` : error.message);
      } finally {
        if (controllerRef.current === controller) controllerRef.current = null;
      }
    },
    [model, limits],
  );

  // Paste from the clipboard anywhere on the page.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length > 0) {
        e.preventDefault();
        void analyze(files);
      }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [analyze]);

  useEffect(() => () => controllerRef.current?.abort(), []);

  // Move focus to the answer so keyboard and screen-reader users land on it.
  useEffect(() => {
    if (job.kind === 'single' || (job.kind === 'batch' && job.detail !== null)) resultHeadingRef.current?.focus();
    else if (job.kind === 'batch') batchHeadingRef.current?.focus();
  }, [job]);

  const running = job.kind === 'running';
  const cancel = () => {
    controllerRef.current?.abort();
    setJob({ kind: 'idle' });
    setAnnouncement('Analysis cancelled.');
  };

  return (
    <div className="detect">
      <section className="card controls" aria-labelledby="choose-heading">
        <h2 id="choose-heading" tabIndex={-1}>
          Check a picture
        </h2>
        {models.status === 'ready' && models.data.models.length > 0 && (
          <ModelSelector models={models.data.models} value={model ?? ''} onChange={setChosenModel} disabled={running} />
        )}
        {models.status === 'loading' && <p className="hint">Loading the list of models…</p>}
        {models.status === 'error' && (
          <ErrorMessage title="Could not load the models" error={models.error} onRetry={models.reload} />
        )}
        <ImagePicker onFiles={(f) => void analyze(f)} disabled={running} limits={limits} />
      </section>

      <p className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>

      {running && (
        <div className="card progress">
          <span className="spinner" aria-hidden="true" />
          <p>
            Analysing {job.files.length === 1 ? job.files[0]!.name : `${job.files.length} pictures`}… This usually takes
            a few seconds.
          </p>
          <button type="button" className="button" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}

      {job.kind === 'error' && (
        <ErrorMessage
          error={job.error}
          fileNames={job.names}
          onRetry={job.files.length > 0 && RETRYABLE.has(job.error.code) ? () => void analyze(job.files) : undefined}
        />
      )}

      {job.kind === 'single' && (
        <ResultView ref={resultHeadingRef} file={job.file} result={job.result} roundTripMs={job.roundTripMs} />
      )}

      {job.kind === 'batch' && (
        <>
          <BatchTable headingRef={batchHeadingRef} rows={job.rows} onShowDetails={(i) => setJob({ ...job, detail: i })} />
          {job.detail !== null && job.rows[job.detail]?.result && (
            <ResultView ref={resultHeadingRef} file={job.rows[job.detail]!.file} result={job.rows[job.detail]!.result!} />
          )}
        </>
      )}
    </div>
  );
}
