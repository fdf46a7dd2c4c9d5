"""The seed project's serving path, rebuilt as the benchmark's baseline.

What the seed did per request: a FastAPI endpoint took JSON ``{"bytes_data": base64}``,
decoded it with Pillow, resized the whole image to 200x200, scaled by 1/255 and called
``model.predict(np.expand_dims(img / 255, 0))`` on that one image. This module does the
same with whatever Keras model file it is given (the benchmark gives it the very file
our server loads), so the two paths differ only in the serving code.

    python -m benchmarks.seed_baseline --model PATH/model.keras --port 8001
"""

from __future__ import annotations

import argparse
import base64
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from fastapi import FastAPI
from PIL import Image
from pydantic import BaseModel


class Body(BaseModel):
    bytes_data: str


def create_app(model_path: str) -> FastAPI:
    import keras

    import aidetect.layers  # noqa: F401  (the bench ResNet50 carries its preprocessing layer)

    model = keras.models.load_model(model_path, compile=False)
    app = FastAPI(title="seed baseline")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.post("/")
    async def predict(body: Body) -> dict:  # the seed's endpoint, line for line in spirit
        img = Image.open(io.BytesIO(base64.b64decode(body.bytes_data)))
        img = img.convert("RGB").resize((200, 200))
        img = np.array(img)
        pred = model.predict(np.expand_dims(img / 255, 0), verbose=0)
        proba = float(pred[0][0])
        return {"result_resnet": int(proba > 0.5), "proba_resnet": proba}

    return app


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, default=8001)
    args = ap.parse_args()
    uvicorn.run(create_app(args.model), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
