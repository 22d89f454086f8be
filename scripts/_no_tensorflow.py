"""Keep TensorFlow out of processes that never use it.

thinc (spaCy's ML layer) imports TensorFlow whenever it is installed, which costs seconds,
hundreds of megabytes and a screen of log lines. The action server and the knowledge-base
scripts only need spaCy's tokenizer and entity ruler, so they import this module first.
Never import it in a process that also runs Rasa (Rasa needs TensorFlow).
"""

import sys

# None in sys.modules makes `import tensorflow` raise ImportError (documented behaviour)
sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]
