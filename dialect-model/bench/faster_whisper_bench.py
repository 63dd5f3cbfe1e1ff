"""Baseline for `dialect-model bench`: faster-whisper (CTranslate2 int8) on the same
model and clips. Reads WAV paths from argv after the model dir and thread count;
prints one JSON object per clip, then one with the peak memory."""
import json
import resource
import sys
import time

from faster_whisper import WhisperModel


def main():
    model_dir, threads, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    for path in files:
        started = time.perf_counter()
        segments, _ = model.transcribe(
            path,
            language="ja",
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        text = "".join(s.text for s in segments).strip()
        ms = (time.perf_counter() - started) * 1000.0
        print(json.dumps({"file": path, "text": text, "ms": ms}, ensure_ascii=False), flush=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"peak_rss_mib": peak_mib}), flush=True)


if __name__ == "__main__":
    main()
