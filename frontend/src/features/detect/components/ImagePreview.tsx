import { useId, useState } from 'react';

interface Props {
  src: string | null;
  alt: string;
  heatmap?: string | null;
  /** Which part scored highest, in words (from the server). */
  heatmapSummary?: string | null;
}

/**
 * The picture, with the per-region heatmap laid over it when the server sent one. The
 * overlay is drawn in plain colour (no blending that vanishes on dark or busy photos) at
 * an adjustable strength, with a colour scale and, in words, which part scored highest.
 */
export function ImagePreview({ src, alt, heatmap, heatmapSummary }: Props) {
  const [showHeatmap, setShowHeatmap] = useState(true);
  const [strength, setStrength] = useState(75);
  const toggleId = useId();
  const strengthId = useId();
  const legendId = useId();
  return (
    <figure className="preview">
      <div className="preview__frame">
        {src && <img className="preview__image" src={src} alt={alt} />}
        {heatmap && showHeatmap && (
          <img
            className="preview__heatmap"
            src={heatmap}
            style={{ opacity: strength / 100 }}
            alt={`Heatmap: red regions looked AI-generated, blue ones like a camera photo. ${heatmapSummary ?? ''}`.trim()}
            aria-describedby={legendId}
          />
        )}
      </div>
      {heatmap && (
        <figcaption className="preview__caption">
          <div className="preview__controls">
            <span>
              <input
                id={toggleId}
                type="checkbox"
                checked={showHeatmap}
                onChange={(e) => setShowHeatmap(e.currentTarget.checked)}
              />
              <label htmlFor={toggleId}>Show heatmap</label>
            </span>
            {showHeatmap && (
              <span className="preview__strength">
                <label htmlFor={strengthId}>Strength</label>
                <input
                  id={strengthId}
                  type="range"
                  min={20}
                  max={100}
                  step={5}
                  value={strength}
                  onChange={(e) => setStrength(Number(e.currentTarget.value))}
                />
              </span>
            )}
          </div>
          <div className="heat-legend" id={legendId}>
            <span className="heat-legend__bar" aria-hidden="true" />
            <span className="heat-legend__labels">
              <span>Looks like a camera photo</span>
              <span>Looks AI-generated</span>
            </span>
          </div>
          {heatmapSummary && <p className="preview__summary">{heatmapSummary}</p>}
        </figcaption>
      )}
    </figure>
  );
}
