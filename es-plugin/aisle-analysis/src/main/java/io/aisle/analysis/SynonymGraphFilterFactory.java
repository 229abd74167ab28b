package io.aisle.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.synonym.SynonymGraphFilter;
import org.apache.lucene.analysis.synonym.SynonymMap;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.IndexService.IndexCreationContext;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.AnalysisMode;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.CustomAnalyzer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.text.ParseException;
import java.util.List;
import java.util.function.Function;

/**
 * "synonym_graph" with inline Solr-format rules only. Settings: synonyms (list of lines such as
 * "curd, yogurt, dahi" or "soda => soft drink"), expand (default true), lenient (default false),
 * updateable (default false; true limits the filter to search analyzers). synonyms_path, synonyms_set
 * and format "wordnet" are rejected.
 *
 * Like analysis-common, rules are run through the analyzer's own tokenizer and the filters before this
 * one (so "Café" in a rule is folded if asciifolding comes first); where no chain is known, a
 * standard tokenizer + lowercase analyzer parses them.
 */
public class SynonymGraphFilterFactory extends AbstractTokenFilterFactory {

    private final String rules;
    private final boolean expand;
    private final boolean lenient;
    private final AnalysisMode analysisMode;
    private SynonymMap standardMap;  // built lazily, only if create() is called without a chain

    public SynonymGraphFilterFactory(String name, Settings settings) {
        super(name, settings);
        for (String unsupported : List.of("synonyms_path", "synonyms_set")) {
            if (settings.get(unsupported) != null) {
                throw new IllegalArgumentException("synonym_graph [" + name + "]: [" + unsupported
                    + "] is not supported by the aisle-analysis plugin; list the rules inline in [synonyms]");
            }
        }
        String format = settings.get("format", "solr");
        if (format.equals("solr") == false) {
            throw new IllegalArgumentException("synonym_graph [" + name + "]: only format [solr] is supported, got [" + format + "]");
        }
        if (settings.keySet().contains("synonyms") == false) {
            throw new IllegalArgumentException("synonym_graph [" + name + "]: the [synonyms] setting is required");
        }
        this.rules = String.join("\n", settings.getAsList("synonyms"));
        this.expand = settings.getAsBoolean("expand", true);
        this.lenient = settings.getAsBoolean("lenient", false);
        this.analysisMode = settings.getAsBoolean("updateable", false) ? AnalysisMode.SEARCH_TIME : AnalysisMode.ALL;
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        synchronized (this) {
            if (standardMap == null) {
                standardMap = buildMap(new StandardLowercaseAnalyzer());
            }
        }
        return filter(tokenStream, standardMap);
    }

    /** Called by Elasticsearch when it assembles an analyzer: parse the rules with that analyzer's chain. */
    @Override
    public TokenFilterFactory getChainAwareTokenFilterFactory(IndexCreationContext context, TokenizerFactory tokenizer,
            List<CharFilterFactory> charFilters, List<TokenFilterFactory> previousTokenFilters,
            Function<String, TokenFilterFactory> allFilters) {
        Analyzer ruleAnalyzer = new CustomAnalyzer(tokenizer, charFilters.toArray(new CharFilterFactory[0]),
            previousTokenFilters.stream().map(TokenFilterFactory::getSynonymFilter).toArray(TokenFilterFactory[]::new));
        SynonymMap map = buildMap(ruleAnalyzer);
        String name = name();
        AnalysisMode mode = analysisMode;
        return new TokenFilterFactory() {
            @Override public String name() { return name; }
            @Override public TokenStream create(TokenStream tokenStream) { return filter(tokenStream, map); }
            @Override public TokenFilterFactory getSynonymFilter() { return IDENTITY_FILTER; }
            @Override public AnalysisMode getAnalysisMode() { return mode; }
        };
    }

    @Override
    public TokenFilterFactory getSynonymFilter() {
        return IDENTITY_FILTER;  // a later synonym filter must not see this one's output while parsing its rules
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return analysisMode;
    }

    private static TokenStream filter(TokenStream tokenStream, SynonymMap map) {
        return map.fst == null ? tokenStream : new SynonymGraphFilter(tokenStream, map, false);
    }

    /** Lenient mode skips rule lines that fail to parse (e.g. a word the chain removes entirely). */
    private SynonymMap buildMap(Analyzer ruleAnalyzer) {
        SolrSynonymParser parser = new SolrSynonymParser(true, expand, ruleAnalyzer);
        try {
            if (lenient) {
                for (String line : rules.split("\n")) {
                    try {
                        parser.parse(new StringReader(line));
                    } catch (ParseException | IllegalArgumentException e) {
                        // skip this rule, as analysis-common's lenient mode does
                    }
                }
            } else {
                parser.parse(new StringReader(rules));
            }
            return parser.build();
        } catch (ParseException e) {
            throw new IllegalArgumentException("synonym_graph [" + name() + "]: failed to parse synonyms: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("synonym_graph [" + name() + "]: failed to build synonyms", e);
        }
    }

    private static final class StandardLowercaseAnalyzer extends Analyzer {
        @Override
        protected TokenStreamComponents createComponents(String fieldName) {
            Tokenizer tokenizer = new StandardTokenizer();
            return new TokenStreamComponents(tokenizer, new LowerCaseFilter(tokenizer));
        }
    }
}
