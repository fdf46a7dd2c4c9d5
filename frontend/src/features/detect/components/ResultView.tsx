import { forwardRef } from 'react';
import { formatBytes } from '../../../api/errors';
import type { DetectionResult, ImageInfo } from '../../../api/types';
import { formatMs, percent } from '../../../lib/format';
import { useObjectUrl } from '../../../lib/useObjectUrl';
import { VERDICT_LABEL, ruleExplanation, verdictExplanation } from '../verdict';
import { EvidenceList } from './EvidenceList';
import { ImagePreview } from './ImagePreview';
import { ModelScores } from './ModelScores';
import { ProbabilityGauge } from './ProbabilityGauge';

/** The file format, with what it says about compression: a JPEG's quality, or whether a WebP is lossy. */
function formatFact(image: ImageInfo): string {
  if (typeof image.jpeg_quality === 'number') return `${image.format}, quality about ${image.jpeg_quality}`;
  if (typeof image.webp_lossy === 'boolean') return `${image.format}, ${image.webp_lossy ? 'lossy' : 'lossless'}`;
  return image.format;
}

interface Props {
  file: File;
  result: DetectionResult;
  /** Time from sending to answer, measured by the page (network included). */
  roundTripMs?: number;
}

/** The full report for one picture. The heading receives focus when it appears. */
export const ResultView = forwardRef<HTMLHeadingElement, Props>(function ResultView({ file, result, roundTripMs }, ref) {
  const src = useObjectUrl(file);
  const { decision } = result;
  // Out of scope: no gauge, threshold or heatmap that would read as a judgement.
  const outOfScope = result.verdict === 'out_of_scope';
  // A JPEG or lossy WebP upload: what compression about this hard does to the model (a caution when it hides AI pictures).
  const compression = outOfScope ? null : decision.compression;
  const caution = compression ? !compression.real_supported : false;
  return (
    <section className="result" aria-labelledby="result-heading">
      <div className="result__media">
        <ImagePreview
          src={src}
          alt={`Your picture: ${file.name}`}
          heatmap={outOfScope ? null : result.heatmap}
          heatmapSummary={outOfScope ? null : result.heatmap_summary}
        />
      </div>
      <div className="result__body">
        <div className={`verdict verdict--${result.verdict}`}>
          <p className="verdict__kicker">Verdict for {file.name}</p>
          <h2 id="result-heading" ref={ref} tabIndex={-1} className="verdict__label">
            <span className="visually-hidden">Verdict:</span> {VERDICT_LABEL[result.verdict]}
            {decision.conflicting_evidence && (
              <span className="verdict__flag">
                <span className="visually-hidden">, </span>conflicting evidence
              </span>
            )}
          </h2>
          <p className={decision.conflicting_evidence ? 'verdict__conflict' : undefined}>{verdictExplanation(result)}</p>
          {compression && (
            <p className={caution ? 'verdict__compression verdict__compression--caution' : 'verdict__compression'}>
              {caution && <span className="visually-hidden">Caution: </span>}
              {compression.summary}
            </p>
          )}
          {outOfScope ? (
            <p className="hint">
              For the curious: the pixel model gave {percent(result.ai_probability)}, a number that means little for
              this picture.
            </p>
          ) : (
            <ProbabilityGauge
              probability={result.ai_probability}
              threshold={decision.threshold}
              band={decision.uncertain_band}
            />
          )}
          <p className="hint">
            {ruleExplanation(decision.rule)}
            {decision.pixel_verdict !== result.verdict &&
              result.verdict !== 'out_of_scope' &&
              ` The pixel model alone said: ${VERDICT_LABEL[decision.pixel_verdict]}.`}
          </p>
        </div>

        {result.models.length > 1 && <ModelScores scores={result.models} />}
        <EvidenceList evidence={result.evidence} />

        <section className="card" aria-labelledby="facts-heading">
          <h3 id="facts-heading">Image facts</h3>
          <dl className="facts">
            <div>
              <dt>Size</dt>
              <dd>
                {result.image.width} × {result.image.height} px
              </dd>
            </div>
            <div>
              <dt>Format</dt>
              <dd>{formatFact(result.image)}</dd>
            </div>
            <div>
              <dt>File size</dt>
              <dd>{formatBytes(file.size)}</dd>
            </div>
            <div>
              <dt>Model</dt>
              <dd>
                {result.model.name} v{result.model.version}
              </dd>
            </div>
            <div>
              <dt>Analysis time</dt>
              <dd>
                {formatMs(result.elapsed_ms)}
                {roundTripMs !== undefined && ` (${formatMs(roundTripMs)} with upload)`}
              </dd>
            </div>
          </dl>
        </section>
        <p className="hint">
          {outOfScope
            ? 'No verdict is better than a wrong one for a picture like this; '
            : `A score of ${percent(result.ai_probability)} is an estimate, not proof. Use it to inform your judgement; `}
          see <a href="#/about">what the detector can and cannot do</a>.
        </p>
      </div>
    </section>
  );
});
