import { useId, useState } from 'react';

interface Props {
  src: string | null;
  alt: string;
  heatmap?: string | null;
}

/** The picture, with the per-region heatmap laid over it when the server sent one. */
export function ImagePreview({ src, alt, heatmap }: Props) {
  const [showHeatmap, setShowHeatmap] = useState(true);
  const toggleId = useId();
  return (
    <figure className="preview">
      <div className="preview__frame">
        {src && <img className="preview__image" src={src} alt={alt} />}
        {heatmap && showHeatmap && (
          <img className="preview__heatmap" src={heatmap} alt="Heatmap: brighter, warmer regions looked more AI-generated" />
        )}
      </div>
      {heatmap && (
        <figcaption className="preview__caption">
          <input
            id={toggleId}
            type="checkbox"
            checked={showHeatmap}
            onChange={(e) => setShowHeatmap(e.currentTarget.checked)}
          />
          <label htmlFor={toggleId}>Show heatmap</label>
          <span className="hint"> Warmer regions scored as more likely AI-generated.</span>
        </figcaption>
      )}
    </figure>
  );
}
