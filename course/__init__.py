"""What several notebooks share, so that no notebook carries a copy of another's code.

The SageMaker-side notebooks (they run in the notebook's own folder: SageMaker Studio, a
notebook instance, a laptop) put the repository root on `sys.path` in their first cell and
import from here. The Spark notebooks do not: on EMR their code runs on the cluster's driver,
where this folder does not exist, so each of them is self-contained.

Nothing here imports the SageMaker SDK at import time: `sagemaker_setup.require_sdk_v2()`
must be able to run before it.
"""
