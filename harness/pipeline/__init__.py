"""The pipeline: the run lifecycle, generating what is missing, ingesting generations made elsewhere, and
recording graded results. The only stage sequencer; everything it calls is a plain function over records."""
