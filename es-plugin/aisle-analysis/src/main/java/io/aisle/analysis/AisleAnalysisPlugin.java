package io.aisle.analysis;

import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.List;
import java.util.Map;

/**
 * Why this exists: the integ-test-zip Elasticsearch we run locally lacks the analysis-common module, so this
 * plugin re-registers the few token filters Aisle uses under the same names and settings as analysis-common.
 * Never install it next to analysis-common (the official images): the names would clash.
 */
public class AisleAnalysisPlugin extends Plugin implements AnalysisPlugin {

    /** Filters configured in index settings: {"type": "asciifolding", ...}. */
    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "asciifolding", (indexSettings, env, name, settings) -> new AsciiFoldingFilterFactory(name, settings),
            "stemmer", (indexSettings, env, name, settings) -> new StemmerFilterFactory(name, settings),
            "porter_stem", (indexSettings, env, name, settings) -> StemmerFilterFactory.fixed(name, settings, "porter"),
            "kstem", (indexSettings, env, name, settings) -> StemmerFilterFactory.fixed(name, settings, "kstem"),
            "edge_ngram", (indexSettings, env, name, settings) -> new EdgeNGramFilterFactory(name, settings),
            "synonym_graph", AnalysisPlugin.requiresAnalysisSettings(
                (indexSettings, env, name, settings) -> new SynonymGraphFilterFactory(name, settings))
        );
    }

    /** Filters usable by bare name in an analyzer's "filter" list, with analysis-common's defaults. */
    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        return List.of(
            PreConfiguredTokenFilter.singleton("asciifolding", true, ASCIIFoldingFilter::new),
            PreConfiguredTokenFilter.singleton("stemmer", false, PorterStemFilter::new),
            PreConfiguredTokenFilter.singleton("porter_stem", false, PorterStemFilter::new),
            PreConfiguredTokenFilter.singleton("kstem", false, KStemFilter::new),
            PreConfiguredTokenFilter.singleton("edge_ngram", false, false, in -> new EdgeNGramTokenFilter(in, 1))
        );
    }
}
