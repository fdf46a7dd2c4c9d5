import { useId, useRef, useState } from 'react';
import type { DragEvent } from 'react';
import { formatBytes, formatTypes } from '../../../api/errors';
import type { Limits } from '../../../api/types';

interface Props {
  onFiles: (files: File[]) => void;
  disabled?: boolean;
  limits: Limits;
}

/**
 * Every way to hand over a picture: the file picker (one or many), the camera on phones,
 * drag and drop onto the zone. Pasting is handled page-wide by DetectPage.
 */
export function ImagePicker({ onFiles, disabled = false, limits }: Props) {
  const [dragging, setDragging] = useState(false);
  const hintId = useId();
  const pickerRef = useRef<HTMLInputElement>(null);
  const cameraRef = useRef<HTMLInputElement>(null);

  const take = (list: FileList | null, input?: HTMLInputElement | null) => {
    const files = list ? Array.from(list) : [];
    // Clear the input so choosing the same file again still fires a change.
    if (input) input.value = '';
    if (files.length > 0) onFiles(files);
  };

  const onDragOver = (e: DragEvent) => {
    e.preventDefault();
    if (!disabled) {
      e.dataTransfer.dropEffect = 'copy';
      setDragging(true);
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!disabled) take(e.dataTransfer.files);
  };

  return (
    <div
      className={`dropzone${dragging ? ' dropzone--active' : ''}`}
      onDragOver={onDragOver}
      onDragEnter={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="dropzone"
    >
      <p className="dropzone__lead">Drop pictures here, paste one, or</p>
      <div className="dropzone__buttons">
        <label className="button button--primary file-button">
          <input
            ref={pickerRef}
            className="visually-hidden"
            type="file"
            accept="image/*"
            multiple
            disabled={disabled}
            aria-describedby={hintId}
            onChange={(e) => take(e.currentTarget.files, pickerRef.current)}
          />
          Choose pictures
        </label>
        <label className="button file-button">
          <input
            ref={cameraRef}
            className="visually-hidden"
            type="file"
            accept="image/*"
            capture="environment"
            disabled={disabled}
            aria-describedby={hintId}
            onChange={(e) => take(e.currentTarget.files, cameraRef.current)}
          />
          Take a photo
        </label>
      </div>
      <p id={hintId} className="hint">
        {formatTypes(limits.accepted_types)}, up to {formatBytes(limits.max_bytes)} each. One picture gives a
        full report; up to {limits.max_batch_files} at once give a table. Pictures go only to this site&apos;s
        detector; this page keeps nothing once you close it.
      </p>
    </div>
  );
}
